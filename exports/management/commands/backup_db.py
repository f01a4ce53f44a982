from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exports.database import DatabaseToolError, database_backup


class Command(BaseCommand):
    help = (
        "Back up the whole database (pg_dump, custom format) to FILE: DATABASE_URL's, or "
        "the embedded PostgreSQL's. `manage.py restore_db FILE` puts it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            database_backup(path=file)
        except DatabaseToolError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Backed up the database to {file} ({file.stat().st_size:,} bytes).")
