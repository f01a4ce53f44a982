from django.core.management.base import BaseCommand

from reading.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the shipped essay and the demo readers and group (idempotent)."

    def handle(self, *args, **options):
        logins = load_demo()
        self.stdout.write("Demo logins (password for all: %s):" % DEMO_PASSWORD)
        for username, role in logins:
            self.stdout.write(f"  {username:<8} {role}")
