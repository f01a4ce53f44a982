"""Reads for the pages that compose reading, groups and discussions."""

from dataclasses import dataclass

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from discussions import selectors as discussion_selectors
from discussions.models import Comment
from groups import permissions
from groups import selectors as group_selectors
from groups.models import Meeting, Membership, StudyGroup
from reading import selectors as reading_selectors
from reading.models import Passage, Text


def group_choices(*, user, text: Text) -> list[Membership]:
    """The reader's memberships in groups reading this text: shared groups, then the notebook."""
    if not user.is_authenticated:
        return []
    return list(
        Membership.objects.filter(user=user, group__text=text)
        .select_related("group__text", "user")
        .order_by("group__notebook_owner", "group__name")
    )


def selected_membership(*, choices: list[Membership], wanted_slug: str | None) -> Membership | None:
    """The membership whose group's content the reader sees beside the text: the one
    asked for (by ?group= or the remembered choice) if it is theirs, else their first
    shared group, else their private notebook."""
    if wanted_slug:
        wanted = next((m for m in choices if m.group.slug == wanted_slug), None)
        if wanted is not None:
            return wanted
    shared = [m for m in choices if not m.group.is_notebook]
    if shared:
        return min(shared, key=lambda m: (m.joined_at, m.pk))
    return next((m for m in choices if m.group.is_notebook), None)


@dataclass(frozen=True)
class PassagePage:
    text: Text
    passage: Passage
    passage_count: int
    previous: Passage | None
    next: Passage | None
    membership: Membership | None
    group: StudyGroup | None
    next_meeting: Meeting | None
    group_choices: list[Membership]
    group_query: str  # "?group=<slug>" when the page was opened for a group by its link
    is_read: bool
    progress: reading_selectors.Progress | None
    corrections: list[reading_selectors.Correction]


def passage_page(
    *,
    user,
    passage: Passage,
    choices: list[Membership],
    membership: Membership | None,
    group_from_link: bool,
) -> PassagePage:
    text = passage.text
    position = passage.position
    neighbours = {
        p.position: p for p in text.passages.filter(position__in=[position - 1, position + 1])
    }
    progress = reading_selectors.text_progress(user=user, text=text)
    return PassagePage(
        text=text,
        passage=passage,
        passage_count=progress.total if progress else text.passages.count(),
        previous=neighbours.get(position - 1),
        next=neighbours.get(position + 1),
        membership=membership,
        group=membership.group if membership else None,
        next_meeting=(
            membership.group.meetings.upcoming(timezone.now()).first() if membership else None
        ),
        group_choices=choices,
        # A group opened by its link stays beside the text from passage to passage.
        group_query=f"?group={membership.group.slug}" if membership and group_from_link else "",
        is_read=reading_selectors.is_read(user=user, passage=passage),
        progress=progress,
        corrections=reading_selectors.passage_corrections(passage=passage),
    )


@dataclass(frozen=True)
class ReadinessRow:
    """A member and how many of a meeting's passages they have read."""

    username: str
    is_you: bool
    read: int
    total: int

    @property
    def ready(self) -> bool:
        return self.read >= self.total


@dataclass(frozen=True)
class MeetingPage:
    meeting: Meeting
    group: StudyGroup
    membership: Membership
    passages: list[Passage]
    readiness: list[ReadinessRow]
    questions: list
    active_threads: list
    waiting_threads: list
    notes_html: str
    may_manage: bool

    @property
    def ready_count(self) -> int:
        return sum(1 for row in self.readiness if row.ready)


def meeting_readiness(*, membership: Membership, meeting: Meeting) -> list[ReadinessRow]:
    rows = group_selectors.group_members_with_progress(group=membership.group, meeting=meeting)
    return [
        ReadinessRow(
            username=member.user.username,
            is_you=member.user_id == membership.user_id,
            read=member.meeting_read_count,
            total=meeting.passage_count,
        )
        for member in rows
    ]


def meeting_passages(meeting: Meeting) -> list[Passage]:
    return list(
        meeting.group.text.passages.filter(
            position__gte=meeting.first_position, position__lte=meeting.last_position
        ).order_by("position")
    )


def meeting_page(*, membership: Membership, meeting: Meeting) -> MeetingPage:
    active, waiting = discussion_selectors.meeting_threads(membership=membership, meeting=meeting)
    return MeetingPage(
        meeting=meeting,
        group=membership.group,
        membership=membership,
        passages=meeting_passages(meeting),
        readiness=meeting_readiness(membership=membership, meeting=meeting),
        questions=discussion_selectors.meeting_questions(membership=membership, meeting=meeting),
        active_threads=active,
        waiting_threads=waiting,
        notes_html=meeting.notes_markup,
        may_manage=permissions.may_manage_group(membership),
    )


@dataclass(frozen=True)
class HandoutPage:
    meeting: Meeting
    group: StudyGroup
    passages: list[Passage]
    questions: list
    threads: list
    candidates: list  # threads a facilitator may choose; empty for members


def handout_page(*, membership: Membership, meeting: Meeting) -> HandoutPage:
    may_manage = permissions.may_manage_group(membership)
    return HandoutPage(
        meeting=meeting,
        group=membership.group,
        passages=meeting_passages(meeting),
        questions=discussion_selectors.meeting_questions(
            membership=membership, meeting=meeting, printable=True
        ),
        threads=discussion_selectors.handout_threads(membership=membership, meeting=meeting),
        candidates=(
            discussion_selectors.handout_candidates(membership=membership, meeting=meeting)
            if may_manage
            else []
        ),
    )


@dataclass(frozen=True)
class NotebookNote:
    """One note of a reader's notebook, with where it is in the text."""

    comment: Comment
    url: str  # the note beside its passage (or, on a removed passage, its thread)


def notebook_notes(*, user, text: Text) -> tuple[StudyGroup | None, list[NotebookNote]]:
    """The reader's notebook for a text and all its notes in reading order (passage,
    then where the quote starts, then when written); replies to notes follow their
    note. Two queries however many notes."""
    notebook = StudyGroup.objects.filter(notebook_owner=user, text=text).first()
    if notebook is None:
        return None, []
    comments = (
        Comment.objects.discussion()
        .filter(group=notebook, deleted_at__isnull=True)
        .select_related("passage")
        .order_by(
            F("passage__position").asc(nulls_last=True),
            "passage_id",
            F("quote_start").asc(nulls_last=True),
            "created_at",
            "pk",
        )
    )
    notes = []
    for comment in comments:
        passage = comment.passage
        url = (
            reverse("comment_thread", args=[notebook.slug, comment.thread_root_id])
            if passage.is_removed
            else notebook.passage_url(passage.position, f"comment-{comment.pk}")
        )
        notes.append(NotebookNote(comment=comment, url=url))
    return notebook, notes
