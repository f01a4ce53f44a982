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
    reading = reading_selectors.passage_reading(user=user, passage=passage)
    progress = reading.progress
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
        is_read=reading.is_read,
        progress=progress,
        corrections=reading_selectors.passage_corrections(passage=passage),
    )


@dataclass(frozen=True)
class Readiness:
    """How ready a member is for a meeting, and why: of the meeting's passages, how many
    they have read; of the open questions due for it, how many they have answered.
    Questions are for members: a facilitator asks them, so has none due.

    Who has answered what is for facilitators (groups.permissions); a member sees it for
    themselves only. Where the viewer may not know, `questions_answered` is None, and so
    is `ready` unless no question is due."""

    user_id: int
    username: str
    is_you: bool
    passages_read: int
    passages_due: int
    questions_answered: int | None
    questions_due: int

    @property
    def ready(self) -> bool | None:
        if self.questions_answered is None:
            return None
        return (
            self.passages_read >= self.passages_due
            and self.questions_answered >= self.questions_due
        )

    @property
    def why(self) -> str:
        """E.g. "2 of 3 passages read, 1 of 2 questions answered"."""
        passages = _plural(self.passages_due, "passage")
        why = f"{self.passages_read} of {self.passages_due} {passages} read"
        if self.questions_due and self.questions_answered is not None:
            why += (
                f", {self.questions_answered} of {self.questions_due}"
                f" {_plural(self.questions_due, 'question')} answered"
            )
        return why


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def meeting_readiness(*, membership: Membership, meeting: Meeting) -> list[Readiness]:
    """Each member's readiness for a meeting, as `membership` may see it: every passage
    of it read and every open question set for it (or on its passages) answered. The one
    definition of "ready", for the group page and the meeting page; three queries however
    many members."""
    sees_answers = permissions.may_see_progress_of_members(membership)
    answers = discussion_selectors.meeting_answers(meeting=meeting)
    rows = []
    for member in group_selectors.group_members_with_progress(
        group=membership.group, meeting=meeting
    ):
        is_you = member.user_id == membership.user_id
        questions_due = 0 if permissions.is_facilitator(member) else answers.questions_due
        known = sees_answers or is_you or questions_due == 0
        rows.append(
            Readiness(
                user_id=member.user_id,
                username=member.user.username,
                is_you=is_you,
                passages_read=member.meeting_read_count,
                passages_due=meeting.passage_count,
                # A facilitator may answer too, but has no question due.
                questions_answered=(
                    min(answers.answered_by.get(member.user_id, 0), questions_due)
                    if known
                    else None
                ),
                questions_due=questions_due,
            )
        )
    return rows


@dataclass(frozen=True)
class MeetingPage:
    meeting: Meeting
    group: StudyGroup
    membership: Membership
    passages: list[Passage]
    readiness: list[Readiness]
    questions: list
    active_threads: list
    waiting_threads: list
    notes_html: str
    may_manage: bool

    @property
    def questions_due(self) -> int:
        """The open questions due for the meeting (from its members)."""
        return max((row.questions_due for row in self.readiness), default=0)

    @property
    def readiness_known(self) -> bool:
        """Whether the viewer may know every member's readiness (their answers included)."""
        return all(row.ready is not None for row in self.readiness)

    @property
    def ready_count(self) -> int:
        return sum(1 for row in self.readiness if row.ready)

    @property
    def read_all_count(self) -> int:
        return sum(1 for row in self.readiness if row.passages_read >= row.passages_due)


@dataclass(frozen=True)
class GroupMembers:
    """The group page's members (groups.selectors.group_page), each with their readiness
    for the next meeting (None without one)."""

    rows: list[tuple[group_selectors.MemberRow, Readiness | None]]

    @property
    def readiness_known(self) -> bool:
        """Whether the viewer may know every member's readiness (their answers included)."""
        return all(readiness.ready is not None for _, readiness in self.rows if readiness)


def group_members(*, membership: Membership, page: group_selectors.GroupPage) -> GroupMembers:
    readiness = (
        {row.user_id: row for row in meeting_readiness(membership=membership, meeting=meeting)}
        if (meeting := page.next_meeting)
        else {}
    )
    return GroupMembers(rows=[(row, readiness.get(row.user_id)) for row in page.members])


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
