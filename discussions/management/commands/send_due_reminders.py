from django.core.management.base import BaseCommand

from discussions.selectors import DIGEST_HOUR
from discussions.services import daily_digests, meeting_reminders, question_due_reminders


class Command(BaseCommand):
    help = (
        "A day ahead, remind members of questions they have not answered and of meetings "
        "(with the passages they have not read); send the daily digests due (each "
        f"reader's once a day, after {DIGEST_HOUR:02d}:00 in their time zone). Run it "
        "periodically (for example hourly from cron); each question, meeting time and "
        "digest is sent once."
    )

    def handle(self, *args, **options):
        questions = question_due_reminders()
        meetings = meeting_reminders()
        digests = daily_digests()
        self.stdout.write(
            f"{questions} question reminder{'s' if questions != 1 else ''} sent; "
            f"{meetings} meeting{'s' if meetings != 1 else ''} reminded; "
            f"{digests} daily digest{'s' if digests != 1 else ''} due."
        )
