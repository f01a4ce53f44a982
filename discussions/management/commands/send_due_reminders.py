from django.core.management.base import BaseCommand

from discussions.services import meeting_reminders, question_due_reminders


class Command(BaseCommand):
    help = (
        "A day ahead, remind members of questions they have not answered and of meetings "
        "(with the passages they have not read). Run it periodically (for example hourly "
        "from cron); each question and each meeting time is reminded once."
    )

    def handle(self, *args, **options):
        questions = question_due_reminders()
        meetings = meeting_reminders()
        self.stdout.write(
            f"{questions} question reminder{'s' if questions != 1 else ''} sent; "
            f"{meetings} meeting{'s' if meetings != 1 else ''} reminded."
        )
