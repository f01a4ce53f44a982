"""Reads for exports: a group's discussion in reading order, and the whole group.

The discussion export shows a member exactly what the pages show them. Its query
applies the rules of groups.permissions in SQL: `answers_filter` leaves out the
answer threads of "answer first" questions the member may not see yet, and
`hidden_comment_filter` decides inside the query whether a comment's words (and
quote) leave the database at all. Threads are then built per passage as the passage
page builds them (tombstones for deleted or hidden comments that have replies, none
for those without), in the page's order.

Everything streams: a fixed number of queries however many members, passages or
comments (server-side cursors through `.iterator(chunk_size=...)`), and memory holds
one passage's discussion at a time.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from discussions.models import Comment, HandoutThread, HelpfulMark, Question
from groups import permissions
from groups.models import Meeting, Membership
from reading.models import Passage, ReadingProgress

CHUNK_SIZE = 2000
DELETED = "This comment was deleted."
HIDDEN = "Hidden by a facilitator."
# A removed passage sorts after every passage in the text: (1, its pk) after (0, position).
IN_TEXT, REMOVED = 0, 1


# The discussion, as a member sees it -----------------------------------------------


@dataclass
class ExportComment:
    """A comment, answer or reply as the member sees it; a tombstone has a placeholder
    and neither author nor words."""

    id: int
    author: str
    created_at: datetime
    edited_at: datetime | None
    parent_id: int | None
    question_id: int | None
    quote: str
    body: str
    placeholder: str
    pinned_at: datetime | None
    highlighted: bool
    helpful_count: int
    # Hidden by a facilitator, shown to this reader (a facilitator, or its author).
    hidden: bool = False
    hidden_reason: str = ""
    replies: list["ExportComment"] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.parent_id is not None:
            return "reply"
        return "answer" if self.question_id is not None else "comment"


@dataclass(frozen=True)
class ExportQuestion:
    id: int
    body: str
    range_label: str
    answer_first: bool
    closed: bool
    due: datetime | None
    answers_visible: bool  # False: "answer first" and the member has not answered
    answers: list[ExportComment]


@dataclass(frozen=True)
class ExportPassage:
    position: int | None  # None: a passage a revision removed from the text
    body: str
    questions: list[ExportQuestion]
    threads: list[ExportComment]

    @property
    def is_removed(self) -> bool:
        return self.position is None


@dataclass(frozen=True)
class DiscussionExport:
    group_name: str
    group_slug: str
    is_notebook: bool
    text_title: str
    text_author: str
    exported_by: str
    exported_at: datetime
    passages: Iterator[ExportPassage]


def _answered_questions(membership: Membership):
    return (
        Comment.objects.answers()
        .filter(author_id=membership.user_id, group_id=membership.group_id)
        .values("question_id")
    )


def _discussion_rows(membership: Membership) -> Iterator[dict]:
    """Every comment of the group the member may see in some form, in reading order.
    Words and quotes come back only where the member may read them."""
    readable = Q(deleted_at__isnull=True) & permissions.hidden_comment_filter(membership)
    helpful = (
        HelpfulMark.objects.filter(comment=OuterRef("pk"))
        .order_by()
        .values("comment")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        Comment.objects.filter(group_id=membership.group_id)
        .filter(permissions.answers_filter(membership, _answered_questions(membership)))
        .annotate(
            readable=Case(When(readable, then=Value(True)), default=Value(False)),
            shown_body=Case(
                When(readable, then=F("body")), default=Value(""), output_field=TextField()
            ),
            shown_quote=Case(
                When(readable, then=F("quote_exact")), default=Value(""), output_field=TextField()
            ),
            shown_hidden_reason=Case(
                When(readable, then=F("hidden_reason")), default=Value(""), output_field=TextField()
            ),
            home=Coalesce("question__first_position", "passage__position"),
            removed_passage=Case(When(home__isnull=True, then=F("passage_id")), default=Value(0)),
            helpful_count=Coalesce(Subquery(helpful, output_field=IntegerField()), Value(0)),
        )
        .order_by(F("home").asc(nulls_last=True), "removed_passage", "created_at", "pk")
        .values(
            "pk",
            "home",
            "removed_passage",
            "author__username",
            "created_at",
            "edited_at",
            "parent_id",
            "question_id",
            "shown_quote",
            "shown_body",
            "readable",
            "deleted_at",
            "hidden_at",
            "shown_hidden_reason",
            "pinned_at",
            "highlighted_at",
            "helpful_count",
        )
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _row_key(row: dict) -> tuple[int, int]:
    if row["home"] is None:
        return (REMOVED, row["removed_passage"])
    return (IN_TEXT, row["home"])


def _passage_key(passage: dict) -> tuple[int, int]:
    if passage["position"] is None:
        return (REMOVED, passage["pk"])
    return (IN_TEXT, passage["position"])


def build_threads(rows: list[dict]) -> list[ExportComment]:
    """The threads of one passage (or one question's answers), as build_thread makes
    them for the page: a deleted or unreadable comment stays as a tombstone while it
    has replies to hold together, and goes otherwise."""
    nodes: dict[int, ExportComment] = {}
    for row in rows:
        placeholder = ""
        if row["deleted_at"] is not None:
            placeholder = DELETED
        elif not row["readable"]:
            placeholder = HIDDEN
        nodes[row["pk"]] = ExportComment(
            id=row["pk"],
            author="" if placeholder else (row["author__username"] or ""),
            created_at=row["created_at"],
            edited_at=None if placeholder else row["edited_at"],
            parent_id=row["parent_id"],
            question_id=row["question_id"],
            quote="" if placeholder else row["shown_quote"],
            body="" if placeholder else row["shown_body"],
            placeholder=placeholder,
            pinned_at=row["pinned_at"],
            highlighted=row["highlighted_at"] is not None and not placeholder,
            helpful_count=0 if placeholder else row["helpful_count"],
            hidden=row["hidden_at"] is not None and not placeholder,
            hidden_reason="" if placeholder else row["shown_hidden_reason"],
        )
    roots: list[ExportComment] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        (parent.replies if parent is not None else roots).append(node)

    # A placeholder with nothing kept under it goes: replies before their parents
    # (reversed thread order), so one whose replies all went goes too.
    for root in roots:
        for comment, _level in reversed(list(in_thread_order(root))):
            comment.replies = [reply for reply in comment.replies if _kept(reply)]
    return [root for root in roots if _kept(root)]


def _kept(comment: ExportComment) -> bool:
    return not comment.placeholder or bool(comment.replies)


def in_thread_order(comment: ExportComment) -> Iterator[tuple[ExportComment, int]]:
    """A comment and all the replies under it, each after its parent and before that
    parent's next reply, with how many levels below `comment` it is. A loop, not
    recursion: replies nest to any depth."""
    pending = [(comment, 0)]
    while pending:
        current, level = pending.pop()
        yield current, level
        pending.extend((reply, level + 1) for reply in reversed(current.replies))


def _question_rows(membership: Membership) -> dict[int, list[Question]]:
    answered = Exists(_answered_questions(membership).filter(question_id=OuterRef("pk")))
    questions = (
        Question.objects.filter(group_id=membership.group_id)
        .select_related("meeting")
        .annotate(answered=answered)
        .order_by("first_position", "order", "pk")
    )
    by_position: dict[int, list[Question]] = {}
    for question in questions:
        by_position.setdefault(question.first_position, []).append(question)
    return by_position


def _export_questions(
    membership: Membership, questions: list[Question], rows: list[dict]
) -> list[ExportQuestion]:
    by_question: dict[int, list[dict]] = {}
    for row in rows:
        by_question.setdefault(row["question_id"], []).append(row)
    exported = []
    for question in questions:
        visible = permissions.may_see_answers(membership, question, answered=question.answered)
        answers = build_threads(by_question.get(question.pk, [])) if visible else []
        # Highlighted answers first, then in the order they came, as on the page.
        answers.sort(key=lambda node: (not node.highlighted, node.created_at, node.id))
        exported.append(
            ExportQuestion(
                id=question.pk,
                body=question.body,
                range_label=question.passage_range_label,
                answer_first=question.answer_first,
                closed=question.is_closed,
                due=question.due,
                answers_visible=visible,
                answers=answers,
            )
        )
    return exported


def _passage_export(membership, passage: dict, questions, rows: list[dict]) -> ExportPassage:
    discussion = [row for row in rows if row["question_id"] is None]
    threads = build_threads(discussion)
    # Pinned threads first, then in the order they started, as on the page.
    threads.sort(
        key=lambda node: (node.pinned_at is None, node.pinned_at or node.created_at, node.id)
    )
    answer_rows = [row for row in rows if row["question_id"] is not None]
    return ExportPassage(
        position=passage["position"],
        body=passage["body"],
        questions=_export_questions(membership, questions, answer_rows),
        threads=threads,
    )


def _passages(membership: Membership, *, only_discussed: bool) -> Iterator[ExportPassage]:
    questions = _question_rows(membership)
    passages = (
        Passage.everything.filter(text_id=membership.group.text_id)
        .order_by(F("position").asc(nulls_last=True), "pk")
        .values("pk", "position", "body")
        .iterator(chunk_size=CHUNK_SIZE)
    )
    comment_groups = groupby(_discussion_rows(membership), key=_row_key)
    pending = next(comment_groups, None)
    for passage in passages:
        key = _passage_key(passage)
        rows: list[dict] = []
        # Rows whose passage is gone from the stream (none in a consistent database)
        # are skipped rather than attached to the wrong passage.
        while pending is not None and pending[0] <= key:
            if pending[0] == key:
                rows = list(pending[1])
            pending = next(comment_groups, None)
        own_questions = questions.get(passage["position"], []) if key[0] == IN_TEXT else []
        exported = _passage_export(membership, passage, own_questions, rows)
        if only_discussed and not (exported.threads or exported.questions):
            continue
        yield exported


def discussion_export(*, membership: Membership, now: datetime | None = None) -> DiscussionExport:
    """The group's discussion of its text as this member sees it on the pages. A
    notebook's export keeps only the passages with notes."""
    permissions.require(permissions.may_export_discussion, membership)
    group = membership.group
    return DiscussionExport(
        group_name=group.name,
        group_slug=group.slug,
        is_notebook=group.is_notebook,
        text_title=group.text.title,
        text_author=group.text.author,
        exported_by=membership.user.username,
        exported_at=now or timezone.now(),
        passages=_passages(membership, only_discussed=group.is_notebook),
    )


# The whole group, for a facilitator's backup -----------------------------------------

BACKUP_FORMAT = "sectstudy-group"
BACKUP_VERSION = 1


def body_digest(body: str) -> str:
    """How a backup names a passage's words, so a restore finds the same passage."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class GroupBackup:
    """The whole group in the documented JSON format (README, "Group backups"). Every
    object gets a number of its own in the file (1, 2, ... in the order made), which
    references use; database ids never appear, so a restore gives back the same file."""

    header: dict
    sections: dict[str, Iterator[dict]]


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _numbered(pks) -> dict[int, int]:
    return {pk: number for number, pk in enumerate(pks, start=1)}


@contextmanager
def one_snapshot():
    """Every read inside sees the database as it was at the first one, as pg_dump does: a
    backup that streams while the group changes (a meeting scheduled, a comment posted)
    is still one consistent file. Inside a transaction already (a test's), the reads are
    that transaction's, which is only a snapshot if it began as one."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def group_backup(*, membership: Membership, now: datetime | None = None) -> GroupBackup:
    """Everything of a shared group, for its facilitators: members and roles, meetings,
    questions, every comment and answer (hidden and deleted ones too, with their
    quotes and threads), helpful marks, and the members' reading progress. Read it
    within `one_snapshot`, from this call to the last row."""
    permissions.require(permissions.may_export_group, membership)
    group = membership.group
    text = group.text
    member_ids = Membership.objects.filter(group=group).values("user_id")
    group_comments = Comment.objects.filter(group=group)

    passages = list(
        Passage.everything.filter(text=text)
        .filter(
            Exists(group_comments.filter(passage=OuterRef("pk")))
            | Exists(
                ReadingProgress.objects.filter(passage=OuterRef("pk"), reader_id__in=member_ids)
            )
        )
        .order_by(F("position").asc(nulls_last=True), "pk")
        .values_list("pk", "position", "body")
    )
    passage_numbers = _numbered(pk for pk, _, _ in passages)
    meetings = list(Meeting.objects.filter(group=group).order_by("pk"))
    meeting_numbers = _numbered(m.pk for m in meetings)
    questions = list(
        Question.objects.filter(group=group)
        .annotate(created_by_name=F("created_by__username"))
        .order_by("pk")
    )
    question_numbers = _numbered(q.pk for q in questions)
    comment_numbers = _numbered(group_comments.order_by("pk").values_list("pk", flat=True))

    def members():
        for username, role, joined_at in (
            Membership.objects.filter(group=group)
            .order_by("joined_at", "pk")
            .values_list("user__username", "role", "joined_at")
        ):
            yield {"username": username, "role": role, "joined_at": _iso(joined_at)}

    def passage_rows():
        for pk, position, body in passages:
            yield {
                "id": passage_numbers[pk],
                "position": position,
                "sha256": body_digest(body),
            }

    def meeting_rows():
        for meeting in meetings:
            yield {
                "id": meeting_numbers[meeting.pk],
                "starts_at": _iso(meeting.starts_at),
                "first_position": meeting.first_position,
                "last_position": meeting.last_position,
                "duration_minutes": meeting.duration_minutes,
                "agenda": meeting.agenda,
                "notes": meeting.notes,
                "cancelled_at": _iso(meeting.cancelled_at),
                "created_at": _iso(meeting.created_at),
            }

    def handout_rows():
        rows = (
            HandoutThread.objects.filter(meeting__group=group)
            .order_by("pk")
            .values_list("meeting_id", "comment_id")
        )
        for meeting_id, comment_id in rows:
            if comment_id in comment_numbers:
                yield {
                    "meeting": meeting_numbers[meeting_id],
                    "comment": comment_numbers[comment_id],
                }

    def question_rows():
        for question in questions:
            yield {
                "id": question_numbers[question.pk],
                "body": question.body,
                "first_position": question.first_position,
                "last_position": question.last_position,
                "due_at": _iso(question.due_at),
                "meeting": meeting_numbers.get(question.meeting_id),
                "answer_first": question.answer_first,
                "order": question.order,
                "closed_at": _iso(question.closed_at),
                "created_by": question.created_by_name,
                "created_at": _iso(question.created_at),
                "due_reminder_sent_at": _iso(question.due_reminder_sent_at),
            }

    def comment_rows():
        rows = (
            group_comments.annotate(
                author_name=F("author__username"),
                hidden_by_name=F("hidden_by__username"),
            )
            # What was there when the export began: a comment posted meanwhile waits
            # for the next export instead of appearing half (without its number).
            .filter(pk__lte=max(comment_numbers, default=0))
            .order_by("pk")
            .values(
                "pk",
                "passage_id",
                "author_name",
                "parent_id",
                "question_id",
                "body",
                "quote_exact",
                "quote_prefix",
                "quote_suffix",
                "quote_start",
                "quote_end",
                "quote_original",
                "quote_detached_at",
                "quote_reattached_at",
                "created_at",
                "edited_at",
                "deleted_at",
                "hidden_at",
                "hidden_reason",
                "hidden_by_name",
                "pinned_at",
                "highlighted_at",
            )  # fmt: skip
            .iterator(chunk_size=CHUNK_SIZE)
        )
        for row in rows:
            yield {
                "id": comment_numbers[row["pk"]],
                "passage": passage_numbers[row["passage_id"]],
                "author": row["author_name"],
                "parent": comment_numbers.get(row["parent_id"]),
                "question": question_numbers.get(row["question_id"]),
                "body": row["body"],
                "quote": {
                    "exact": row["quote_exact"],
                    "prefix": row["quote_prefix"],
                    "suffix": row["quote_suffix"],
                    "start": row["quote_start"],
                    "end": row["quote_end"],
                    "original": row["quote_original"],
                    "detached_at": _iso(row["quote_detached_at"]),
                    "reattached_at": _iso(row["quote_reattached_at"]),
                },
                "created_at": _iso(row["created_at"]),
                "edited_at": _iso(row["edited_at"]),
                "deleted_at": _iso(row["deleted_at"]),
                "hidden_at": _iso(row["hidden_at"]),
                "hidden_reason": row["hidden_reason"],
                "hidden_by": row["hidden_by_name"],
                "pinned_at": _iso(row["pinned_at"]),
                "highlighted_at": _iso(row["highlighted_at"]),
            }

    def helpful_rows():
        rows = (
            HelpfulMark.objects.filter(comment__group=group)
            .order_by("pk")
            .values_list("comment_id", "user__username", "created_at")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        for comment_id, username, created_at in rows:
            if comment_id not in comment_numbers:
                continue
            yield {
                "comment": comment_numbers[comment_id],
                "user": username,
                "created_at": _iso(created_at),
            }

    def progress_rows():
        rows = (
            ReadingProgress.objects.filter(passage__text=text, reader_id__in=member_ids)
            .order_by("pk")
            .values_list("reader__username", "passage_id", "read_at")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        for username, passage_id, read_at in rows:
            if passage_id not in passage_numbers:
                continue
            yield {
                "user": username,
                "passage": passage_numbers[passage_id],
                "read_at": _iso(read_at),
            }

    return GroupBackup(
        header={
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "exported_at": _iso(now or timezone.now()),
            "text": {"slug": text.slug, "title": text.title},
            "group": {
                "name": group.name,
                "slug": group.slug,
                "description": group.description,
                "created_at": _iso(group.created_at),
            },
        },
        sections={
            "members": members(),
            "passages": passage_rows(),
            "meetings": meeting_rows(),
            "questions": question_rows(),
            "comments": comment_rows(),
            "helpful_marks": helpful_rows(),
            "handout_threads": handout_rows(),
            "progress": progress_rows(),
        },
    )
