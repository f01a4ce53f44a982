from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from exports.services import GroupImportError, group_import


class Command(BaseCommand):
    help = (
        'Restore a study group from its JSON backup (the facilitators\' "Export" on the '
        "group page) into a database that has the group's text. Readers are matched by "
        "username; missing ones are created without a usable password. A bad file changes "
        "nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--slug", default="", help="The restored group's address (default: the backup's)."
        )

    def handle(self, *args, file: Path, slug: str, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            result = group_import(data=data, slug=slug)
        except GroupImportError as error:
            raise CommandError(f"{file}: {error} Nothing was changed.") from error
        counts = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in result.counts.items())
        self.stdout.write(
            f"Restored “{result.group.name}” at /groups/{result.group.slug}/: {counts}."
        )
        if result.users_created:
            self.stdout.write(
                f"Created {len(result.users_created)} readers without a usable password "
                f"(give them an email address so they can reset it): "
                + ", ".join(result.users_created)
            )
