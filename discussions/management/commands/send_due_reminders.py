from django.core.management.base import BaseCommand

from discussions.services import question_due_reminders


class Command(BaseCommand):
    help = (
        "Notify members who have not answered a question due within a day. "
        "Run it periodically (for example hourly from cron); each question is reminded once."
    )

    def handle(self, *args, **options):
        sent = question_due_reminders()
        self.stdout.write(f"{sent} reminder{'s' if sent != 1 else ''} sent.")
