"""Writes for reading: texts, passages and reading progress.

Each service is a plain function with keyword-only arguments and runs in one
transaction. Races are settled by database constraints, not by checking first.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from reading import revising
from reading.importing import parse_text
from reading.models import (
    AUTHOR_MAX_LENGTH,
    SLUG_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Passage,
    PassageRange,
    PassageVersion,
    ReadingProgress,
    Revision,
    Text,
)
from reading.signals import text_revised

SHIPPED_ESSAY = Path(__file__).resolve().parent / "data" / "anatomy-of-the-sect.txt"
SHIPPED_ESSAY_AUTHOR = "Hal Draper"


@dataclass(frozen=True)
class ImportResult:
    text: Text  # not saved for a dry run
    created: int
    updated: int
    unchanged: int
    passages: tuple[str, ...] = ()


@dataclass(frozen=True)
class RevisionResult:
    text: Text
    steps: list[revising.Step]
    plan: list[str]
    summary: str
    revision: Revision | None  # None for a dry run or when nothing changed


def _checked_details(*, title: str, author: str, slug: str) -> tuple[str, str, str]:
    """Title, author and slug, or a ValidationError saying what is wrong with them."""
    title, author, slug = title.strip(), author.strip(), slug.strip()
    errors = []
    for label, value, limit in (
        ("title", title, TITLE_MAX_LENGTH),
        ("author", author, AUTHOR_MAX_LENGTH),
        ("slug", slug, SLUG_MAX_LENGTH),
    ):
        if len(value) > limit:
            errors.append(f"The {label} is {len(value)} characters long; at most {limit} fit.")
        if "\x00" in value or any(c in value for c in "\n\r"):
            errors.append(f"The {label} must be one line of text.")
    if slug:
        try:
            validate_slug(slug)
        except ValidationError:
            errors.append(
                f"“{slug}” is not a valid slug: use letters, numbers, hyphens or underscores."
            )
    if errors:
        raise ValidationError(errors)
    return title, author, slug


@transaction.atomic
def text_import(
    *, source: str, title: str = "", author: str = "", slug: str = "", dry_run: bool = False
) -> ImportResult:
    """Create a new text from plain text.

    A text is identified by its slug. Importing the very same text again changes
    nothing; a different text at an existing slug is refused: revising a text is
    explicit (`text_revise`), so one essay never silently replaces another. With
    `dry_run` every check is made and nothing is written.
    """
    parsed = parse_text(source)
    title, author, slug = _checked_details(title=title, author=author, slug=slug)
    title = title or (parsed.title or "")
    if not title:
        raise ValidationError("The file does not start with a title line: pass a title.")
    slug = slug or slugify(title)[:SLUG_MAX_LENGTH].strip("-")
    if not slug:
        raise ValidationError("Could not make an address from the title: pass a slug.")
    _checked_details(title=title, author=author, slug=slug)

    existing = Text.objects.filter(slug=slug).first()
    if existing is not None:
        bodies = list(existing.passages.order_by("position").values_list("body", flat=True))
        if bodies == parsed.passages and existing.title == title:
            return ImportResult(
                text=existing,
                created=0,
                updated=0,
                unchanged=len(bodies),
                passages=tuple(parsed.passages),
            )
        raise ValidationError(
            f"There is already a text at /texts/{slug}/ (“{existing.title}”) with other "
            "passages. Revise it explicitly, or import this one under another slug.",
            code="text_exists",
        )
    count = len(parsed.passages)
    if dry_run:
        return ImportResult(
            text=Text(title=title, author=author, slug=slug),
            created=count,
            updated=0,
            unchanged=0,
            passages=tuple(parsed.passages),
        )
    text = Text.objects.create(title=title, author=author, slug=slug)
    Passage.objects.bulk_create(
        Passage(text=text, position=position, body=body, word_count=len(body.split()))
        for position, body in enumerate(parsed.passages, start=1)
    )
    Revision.objects.create(text=text, summary=f"Imported with {count} passages.")
    return ImportResult(
        text=text, created=count, updated=0, unchanged=0, passages=tuple(parsed.passages)
    )


def _positions(indexes) -> str:
    return ", ".join(str(index + 1) for index in indexes)


def _plan_line(step: revising.Step) -> str:
    old, new = _positions(step.old), _positions(step.new)
    plural_old = "passages" if len(step.old) > 1 else "passage"
    match step.kind:
        case revising.INSERTED:
            return f"new passage {new}: inserted"
        case revising.REMOVED:
            return f"passage {old}: removed (kept with its discussion, no longer in the text)"
        case revising.SPLIT:
            return f"passage {old} → passages {new}: split (passage {step.new[step.keeper] + 1} keeps its identity)"
        case revising.MERGED:
            return f"{plural_old} {old} → passage {new}: merged (passage {step.old[step.keeper] + 1} keeps its identity)"
        case _:
            return f"passage {old} → passage {new}: {step.kind}"


def summarize(steps: list[revising.Step]) -> str:
    counts = Counter(step.kind for step in steps)
    order = [
        revising.EDITED,
        revising.INSERTED,
        revising.REMOVED,
        revising.MOVED,
        revising.SPLIT,
        revising.MERGED,
        revising.UNCHANGED,
    ]
    parts = [f"{counts[kind]} {kind}" for kind in order if counts[kind]]
    return ", ".join(parts).capitalize() + "."


def _has_changes(text: Text, title: str, author: str, steps, old: list[Passage]) -> bool:
    in_place = all(
        step.kind == revising.UNCHANGED and step.old == step.new for step in steps
    ) and len(steps) == len(old)
    return not in_place or text.title != title or (bool(author) and text.author != author)


@transaction.atomic
def text_revise(
    *, text: Text, source: str, title: str = "", author: str = "", dry_run: bool = False
) -> RevisionResult:
    """Revise a text from a corrected file, aligning passages by their content.

    Every passage keeps its identity (and so its discussion, progress and visits);
    positions are renumbered and the ranges of questions and meetings follow their
    passages. A passage the file no longer has is taken out of the text, never
    deleted. Edited passages keep their previous wording (PassageVersion). After
    the write, `text_revised` tells the apps above (discussions re-anchors quotes).
    With `dry_run` the plan is computed and nothing is written.
    """
    parsed = parse_text(source)
    title, author, _ = _checked_details(title=title, author=author, slug="")
    text = Text.objects.select_for_update().get(pk=text.pk)
    title = title or parsed.title or text.title
    _checked_details(title=title, author=author, slug="")
    old = list(text.passages.order_by("position"))
    steps = revising.align([p.body for p in old], parsed.passages)
    plan = [_plan_line(step) for step in steps]
    if not _has_changes(text, title, author, steps, old):
        return RevisionResult(
            text=text, steps=steps, plan=plan, summary="No changes.", revision=None
        )
    summary = summarize(steps)
    if dry_run:
        return RevisionResult(text=text, steps=steps, plan=plan, summary=summary, revision=None)

    now = timezone.now()
    text.title, text.author = title, author or text.author
    text.save(update_fields=["title", "author"])
    revision = Revision.objects.create(text=text, summary=summary[:300], plan="\n".join(plan))
    new_passages: list[Passage | None] = [None] * len(parsed.passages)
    old_spans: dict[int, tuple[int, int]] = {}  # old position -> new positions (first, last)
    absorbed: dict[int, int] = {}  # passage pk -> pk of the passage its words went into
    pieces: dict[int, list[int]] = {}  # passage pk -> new index of its split pieces
    removed: list[Passage] = []
    for step in steps:
        if step.kind == revising.INSERTED:
            continue
        if step.kind == revising.REMOVED:
            removed.append(old[step.old[0]])
            continue
        if step.kind == revising.MERGED:
            keeper = old[step.old[step.keeper]]
            new_passages[step.new[0]] = keeper
            for i in step.old:
                old_spans[old[i].position] = (step.new[0] + 1, step.new[0] + 1)
                if old[i] is not keeper:
                    absorbed[old[i].pk] = keeper.pk
                    removed.append(old[i])
            continue
        passage = old[step.old[0]]
        new_passages[step.new[step.keeper]] = passage
        old_spans[passage.position] = (step.new[0] + 1, step.new[-1] + 1)
        if step.kind == revising.SPLIT:
            pieces[passage.pk] = list(step.new)

    versions, changed = [], []
    for index, passage in enumerate(new_passages):
        body = parsed.passages[index]
        if passage is None:
            new_passages[index] = Passage(
                text=text, position=index + 1, body=body, word_count=len(body.split())
            )
            continue
        if passage.body != body:
            versions.append(PassageVersion(passage=passage, revision=revision, body=passage.body))
            changed.append(passage.pk)
        passage.position, passage.body, passage.word_count = index + 1, body, len(body.split())
    for passage in removed:
        passage.position, passage.removed_at = None, now
    kept = [p for p in new_passages if p.pk] + removed
    Passage.everything.bulk_update(kept, ["position", "body", "word_count", "removed_at"])
    Passage.everything.bulk_create([p for p in new_passages if not p.pk])
    PassageVersion.objects.bulk_create(versions)
    _ranges_follow(text, old_spans, len(new_passages))
    text_revised.send(
        sender=Text,
        text=text,
        revision=revision,
        changed=changed,
        absorbed=absorbed,
        pieces={pk: [new_passages[j].pk for j in js] for pk, js in pieces.items()},
    )
    return RevisionResult(text=text, steps=steps, plan=plan, summary=summary, revision=revision)


def _ranges_follow(text: Text, old_spans: dict[int, tuple[int, int]], count: int) -> None:
    """Questions' and meetings' passage ranges cover the same passages after renumbering."""
    for model in PassageRange.concrete_models():
        ranges = list(model.objects.filter(**{model.TEXT_LOOKUP: text}))
        for passage_range in ranges:
            first, last = remap_range(
                passage_range.first_position, passage_range.last_position, old_spans, count
            )
            passage_range.first_position, passage_range.last_position = first, last
        model.objects.bulk_update(ranges, ["first_position", "last_position"])


def remap_range(
    first: int, last: int, old_spans: dict[int, tuple[int, int]], count: int
) -> tuple[int, int]:
    """New (first, last) of a range of old positions: the span of the passages it covered
    that remain; if none remains, the passage after it (or the last one)."""
    spans = [old_spans[p] for p in range(first, last + 1) if p in old_spans]
    if spans:
        return min(s[0] for s in spans), max(s[1] for s in spans)
    after = [span[0] for position, span in old_spans.items() if position > last]
    position = min(after) if after else count
    return position, position


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
