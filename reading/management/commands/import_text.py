from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reading.importing import TextParseError
from reading.services import text_import


class Command(BaseCommand):
    help = (
        "Import a plain-text essay: a title line, then passages separated by blank lines. "
        "Importing again updates passages in place, keeping their discussions attached."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--title", default="", help="Title (default: the file's first line).")
        parser.add_argument("--author", default="")
        parser.add_argument(
            "--slug", default="", help="Address of the text (default: from the title)."
        )

    def handle(self, *args, file: Path, title: str, author: str, slug: str, **options):
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            result = text_import(source=source, title=title, author=author, slug=slug)
        except (TextParseError, ValidationError) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            raise CommandError(message) from error
        self.stdout.write(
            f"“{result.text.title}” (/texts/{result.text.slug}/): {result.created} passages added, "
            f"{result.updated} updated, {result.unchanged} unchanged."
        )
