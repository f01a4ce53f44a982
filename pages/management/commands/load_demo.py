from django.core.management.base import BaseCommand

from discussions.demo import load_discussion_demo
from groups.demo import DEMO_GROUP_SLUG, DEMO_PASSWORD, load_demo
from groups.models import StudyGroup


class Command(BaseCommand):
    help = "Load the shipped essay, demo readers, and a demo group with its discussion and questions (idempotent)."

    def handle(self, *args, **options):
        logins = load_demo()
        load_discussion_demo(StudyGroup.objects.get(slug=DEMO_GROUP_SLUG))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, role in logins:
            self.stdout.write(f"  {username:<8} {role}")
