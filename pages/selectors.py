"""Reads for the pages that compose reading, groups and discussions."""

from dataclasses import dataclass

from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from discussions.models import Comment
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
