from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exports.database import DatabaseToolError, database_restore


class Command(BaseCommand):
    help = (
        "Restore the whole database from a `manage.py backup_db` (or pg_dump -Fc) FILE, "
        "replacing what it holds, in one transaction. Stop the app servers and the task "
        "worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--database",
            default="",
            help="Restore into this other (existing) database on the same server, e.g. "
            "to check a backup.",
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")

    def handle(self, *args, file: Path, database: str, yes: bool, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        if not yes and not database:
            answer = input("This replaces everything in the database by the backup. Type yes: ")
            if answer.strip() != "yes":
                raise CommandError("Nothing was restored.")
        try:
            database_restore(path=file, dbname=database)
        except DatabaseToolError as error:
            raise CommandError(f"{error} Nothing was restored.") from error
        self.stdout.write(f"Restored the database from {file}.")
