"""Reads for reading pages: querysets shaped for each page, free of N+1 queries."""

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, DateField, OuterRef, Q, Subquery
from django.db.models.functions import TruncWeek

from reading.models import Passage, PassageVersion, ReadingProgress, Revision, Text


@dataclass(frozen=True)
class Progress:
    read: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.read / self.total) if self.total else 0

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.read >= self.total


@dataclass(frozen=True)
class PassageReading:
    """A reader at a passage: their progress through its text, and whether they have
    read this passage (progress None and not read for a visitor)."""

    progress: Progress | None
    is_read: bool


def passage_reading(*, user, passage: Passage) -> PassageReading:
    """text_progress and whether this passage is read, in one query."""
    if not user.is_authenticated:
        return PassageReading(progress=None, is_read=False)
    counts = _reading_counts(user=user, text_id=passage.text_id, passage_pk=passage.pk)
    return PassageReading(
        progress=Progress(read=counts["read"], total=counts["total"]),
        is_read=counts["this_read"] > 0,
    )


def text_progress(*, user, text: Text) -> Progress | None:
    if not user.is_authenticated:
        return None
    counts = _reading_counts(user=user, text_id=text.pk)
    return Progress(read=counts["read"], total=counts["total"])


def _reading_counts(*, user, text_id: int, passage_pk: int | None = None) -> dict[str, int]:
    """The text's passages, those the reader has read and, given a passage, whether it
    is one of them: one query, the one definition of a reader's progress."""
    counts = {"total": Count("pk"), "read": Count("pk", filter=Q(is_read=True))}
    if passage_pk is not None:
        counts["this_read"] = Count("pk", filter=Q(is_read=True, pk=passage_pk))
    return Passage.objects.filter(text_id=text_id).with_read_state(user).aggregate(**counts)


@dataclass(frozen=True)
class TextRow:
    """A text on the home page with the reader's progress (None when anonymous)."""

    text: Text
    passage_count: int
    progress: Progress | None
    first_unread_position: int | None


def texts_with_progress(*, user):
    texts = Text.objects.with_passage_stats()
    if user.is_authenticated:
        read_count = (
            ReadingProgress.objects.filter(
                reader=user, passage__text=OuterRef("pk"), passage__position__isnull=False
            )
            .order_by()
            .values("passage__text")
            .annotate(n=Count("pk"))
            .values("n")
        )
        first_unread = (
            Passage.objects.filter(text=OuterRef("pk"))
            .exclude(progress__reader=user)
            .order_by("position")
            .values("position")[:1]
        )
        texts = texts.annotate(
            read_count=Subquery(read_count), first_unread_position=Subquery(first_unread)
        )
    return [
        TextRow(
            text=text,
            passage_count=text.passage_count,
            progress=(
                Progress(read=text.read_count or 0, total=text.passage_count)
                if user.is_authenticated
                else None
            ),
            first_unread_position=getattr(text, "first_unread_position", None),
        )
        for text in texts
    ]


@dataclass(frozen=True)
class PassageRow:
    """A line of a text's contents: the passage, whether the reader has read it, and
    how many comments are new to them in the selected group."""

    passage: Passage
    is_read: bool
    new_comments: int = 0


# Passages per contents page: a 2,000-passage text stays a light page (about 40 KB).
CONTENTS_PAGE_SIZE = 100


@dataclass(frozen=True)
class ContentsPage:
    """One page of a text's contents; `page` is Django's Page, for the pager."""

    rows: list[PassageRow]
    page: Page

    @property
    def label(self) -> str:
        return f"passages {self.page.start_index()} to {self.page.end_index()}"

    @property
    def links(self) -> list[tuple[int, str]]:
        """(page number, "101–200") for each page."""
        size, count = self.page.paginator.per_page, self.page.paginator.count
        return [
            (number, f"{(number - 1) * size + 1}–{min(number * size, count)}")
            for number in self.page.paginator.page_range
        ]


def contents_page(
    *, user, text: Text, page_number=1, new_counts: dict[int, int] | None = None
) -> ContentsPage:
    """A page of the contents; a page number that is not one gives the nearest page."""
    new_counts = new_counts or {}
    passages = text.passages.with_read_state(user).order_by("position")
    page = Paginator(passages, CONTENTS_PAGE_SIZE).get_page(page_number)
    rows = [
        PassageRow(
            passage=passage,
            is_read=passage.is_read,
            new_comments=new_counts.get(passage.position, 0),
        )
        for passage in page
    ]
    return ContentsPage(rows=rows, page=page)


def first_unread_passage(*, user, text: Text) -> Passage | None:
    passages = text.passages.order_by("position")
    if user.is_authenticated:
        passages = passages.exclude(progress__reader=user)
    return passages.first()


def removed_passages(*, text: Text) -> list[Passage]:
    """Passages revisions took out of the text, which keep their discussions."""
    return list(Passage.everything.filter(text=text, position__isnull=True).order_by("removed_at"))


@dataclass(frozen=True)
class Correction:
    """A revision changed this passage's words: when, and the wording it had before."""

    corrected_at: datetime
    previous_body: str


def passage_corrections(*, passage: Passage) -> list[Correction]:
    """The passage's earlier wordings, the latest correction first."""
    return [
        Correction(corrected_at=corrected_at, previous_body=body)
        for body, corrected_at in PassageVersion.objects.filter(passage=passage)
        .order_by("-revision__created_at", "-pk")
        .values_list("body", "revision__created_at")
    ]


def text_revisions(*, text: Text, limit: int = 20) -> list[Revision]:
    """The text's history, newest first: when it was imported and each revision since."""
    return list(text.revisions.order_by("-created_at", "-pk")[:limit])


# At a glance: progress aggregated for a facilitator's grid and a group's chart -------


def read_cells(*, reader_ids, passage_ids) -> set[tuple[int, int]]:
    """(reader id, passage id) for every passage of `passage_ids` read by a reader of
    `reader_ids` (a subquery or list); one query however many readers."""
    return set(
        ReadingProgress.objects.filter(
            reader_id__in=reader_ids, passage_id__in=passage_ids
        ).values_list("reader_id", "passage_id")
    )


def reads_per_week(*, reader_ids, text: Text, since: datetime) -> dict:
    """Passages of the text marked read per week (PostgreSQL date_trunc('week'), in the
    current time zone, weeks starting on Monday) by readers of `reader_ids`, from `since`."""
    rows = (
        ReadingProgress.objects.filter(
            reader_id__in=reader_ids,
            passage__text=text,
            passage__position__isnull=False,
            read_at__gte=since,
        )
        .annotate(week=TruncWeek("read_at", output_field=DateField()))
        .values("week")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["week"]: row["n"] for row in rows}
