"""Writes for reading: texts, passages and reading progress.

Each service is a plain function with keyword-only arguments and runs in one
transaction. Races are settled by database constraints, not by checking first.
"""

from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from reading.importing import parse_text
from reading.models import Passage, ReadingProgress, Text

SHIPPED_ESSAY = Path(__file__).resolve().parent / "data" / "anatomy-of-the-sect.txt"
SHIPPED_ESSAY_AUTHOR = "Hal Draper"


@dataclass(frozen=True)
class ImportResult:
    text: Text
    created: int
    updated: int
    unchanged: int


@transaction.atomic
def text_import(*, source: str, title: str = "", author: str = "", slug: str = "") -> ImportResult:
    """Create or update a text from plain text, keeping each passage's identity.

    Passages are matched by position, so a corrected file updates bodies in place
    and everything attached to a passage stays attached.
    """
    parsed = parse_text(source)
    title = (title or parsed.title or "").strip()
    if not title:
        raise ValidationError("The file does not start with a title line: pass a title.")
    slug = slug or slugify(title)[:100]
    if not slug:
        raise ValidationError("Could not make an address from the title: pass a slug.")

    text, _ = Text.objects.select_for_update().get_or_create(
        slug=slug, defaults={"title": title, "author": author}
    )
    if text.title != title or (author and text.author != author):
        text.title = title
        text.author = author or text.author
        text.save(update_fields=["title", "author"])

    existing = {passage.position: passage for passage in text.passages.all()}
    if len(existing) > len(parsed.passages):
        raise ValidationError(
            f"The file has {len(parsed.passages)} passages but '{text.title}' has "
            f"{len(existing)}; removing passages would detach their discussions."
        )
    created = updated = unchanged = 0
    for position, body in enumerate(parsed.passages, start=1):
        word_count = len(body.split())
        passage = existing.get(position)
        if passage is None:
            Passage.objects.create(text=text, position=position, body=body, word_count=word_count)
            created += 1
        elif passage.body != body:
            passage.body = body
            passage.word_count = word_count
            passage.save(update_fields=["body", "word_count"])
            updated += 1
        else:
            unchanged += 1
    return ImportResult(text=text, created=created, updated=updated, unchanged=unchanged)


def shipped_essay_import() -> ImportResult:
    return text_import(
        source=SHIPPED_ESSAY.read_text(encoding="utf-8"), author=SHIPPED_ESSAY_AUTHOR
    )


def progress_set(*, reader, passage: Passage, read: bool) -> bool:
    """Mark a passage read or unread; idempotent and safe under concurrent requests."""
    if read:
        # ON CONFLICT DO NOTHING: a double click or a second tab is harmless.
        ReadingProgress.objects.bulk_create(
            [ReadingProgress(reader=reader, passage=passage)], ignore_conflicts=True
        )
    else:
        ReadingProgress.objects.filter(reader=reader, passage=passage).delete()
    return read
