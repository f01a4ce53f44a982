from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reading.importing import TextParseError, decode_source
from reading.models import Text
from reading.services import text_import, text_revise


class Command(BaseCommand):
    help = (
        "Import a plain-text essay as a new text: a title line, then passages separated by "
        "blank lines. With --revise SLUG, revise that text instead: passages are aligned "
        "by their content, so every discussion stays on its words."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--title", default="", help="Title (default: the file's first line).")
        parser.add_argument("--author", default="")
        parser.add_argument(
            "--slug", default="", help="Address of a new text (default: from the title)."
        )
        parser.add_argument(
            "--revise", default="", metavar="SLUG", help="Revise the text at this address."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and print what would change (with --revise, which passage "
            "becomes which); change nothing.",
        )
        parser.add_argument(
            "--encoding",
            default="utf-8",
            help="The file's encoding, e.g. latin-1, cp1252, utf-16 (default: utf-8).",
        )

    def handle(self, *args, file: Path, title, author, slug, revise, dry_run, encoding, **options):
        if revise and slug:
            raise CommandError(
                "A revision keeps the text's slug: pass --revise or --slug, not both."
            )
        try:
            data = file.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            source = decode_source(data, encoding)
            if revise:
                self._revise(revise, source, title, author, dry_run)
            else:
                self._import(source, title, author, slug, dry_run)
        except TextParseError as error:
            raise CommandError(str(error)) from error
        except ValidationError as error:
            message = " ".join(error.messages)
            if any(e.code == "text_exists" for e in getattr(error, "error_list", [])):
                message += " To revise it, use --revise SLUG; for a new text, pass --slug."
            raise CommandError(message) from error

    def _import(self, source, title, author, slug, dry_run):
        result = text_import(source=source, title=title, author=author, slug=slug, dry_run=dry_run)
        where = f"“{result.text.title}” (/texts/{result.text.slug}/)"
        if not result.created:
            self.stdout.write(
                f"{where} is already imported with these {result.unchanged} passages: "
                "nothing changed."
            )
        elif dry_run:
            self.stdout.write(
                f"{where}: {result.created} passages to add. Dry run: nothing changed."
            )
        else:
            self.stdout.write(f"{where}: {result.created} passages added.")

    def _revise(self, slug, source, title, author, dry_run):
        text = Text.objects.filter(slug=slug).first()
        if text is None:
            raise CommandError(f"There is no text at /texts/{slug}/ to revise.")
        result = text_revise(text=text, source=source, title=title, author=author, dry_run=dry_run)
        for line in result.plan:
            self.stdout.write(line)
        if dry_run:
            verdict = "Dry run: nothing changed."
        elif result.revision is None:
            verdict = "Nothing changed."
        else:
            verdict = "Revised."
        self.stdout.write(
            f"“{result.text.title}” (/texts/{result.text.slug}/): {result.summary} {verdict}"
        )
