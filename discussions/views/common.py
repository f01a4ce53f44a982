"""What the discussion views share: scoped lookups, URLs, errors, one comment re-rendered."""

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django_htmx.http import reswap, retarget

from discussions import selectors
from discussions.models import Comment
from groups.access import membership_or_404
from groups.models import Membership
from reading.models import Passage


def group_passage_or_404(membership: Membership, position: int) -> Passage:
    return get_object_or_404(
        Passage.objects.select_related("text"), text_id=membership.group.text_id, position=position
    )


def comment_or_404(membership: Membership, comment_pk: int) -> Comment:
    """A comment of the member's group that they may read (groups.permissions); else 404."""
    comment = get_object_or_404(
        Comment.objects.select_related(
            "author", "passage__text", "group", "parent__author", "question"
        ),
        pk=comment_pk,
        group_id=membership.group_id,
    )
    if not selectors.may_read(membership, comment):
        raise Http404("No such comment.")
    return comment


def comment_permitted(
    request, group_slug: str, comment_pk: int, predicate: Callable[..., bool], message: str
) -> tuple[Membership, Comment]:
    """The member's membership and a comment they may read, provided the rule allows
    acting on it (403 otherwise)."""
    membership = membership_or_404(request, group_slug)
    comment = comment_or_404(membership, comment_pk)
    if not predicate(membership, comment):
        raise PermissionDenied(message)
    return membership, comment


def discussion_url(comment: Comment, anchor: str = "") -> str:
    """Where a comment lives: its passage in its group's discussion (or, on a passage a
    revision removed from the text, its thread)."""
    if comment.passage.is_removed:
        url = reverse("comment_thread", args=[comment.group.slug, comment.thread_root_id])
        return f"{url}#{anchor}" if anchor else url
    return comment.group.passage_url(comment.passage.position, anchor)


def add_form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            for message in errors:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


def refused(request, reason: str) -> str | None:
    """Why an action on a comment changed nothing. With htmx, the reason goes back with
    the comment (`alert`, shown in the page's alert out of band); otherwise it is a
    message on the page the action redirects to."""
    if request.htmx:
        return reason
    messages.error(request, reason)
    return None


def render_comment(
    request,
    membership: Membership,
    comment: Comment,
    template="discussions/discussion.html#changed",
    *,
    recount: bool = False,
    clear_slot: bool = False,
    **extra,
):
    """One comment as it now stands, for an htmx swap: by default the comment alone
    (its replies and an open reply form stay as they are), read in one query whatever
    the size of its thread. A deleted comment with nothing under it leaves the page.
    `recount` refreshes the discussion's count (a comment came or went); `clear_slot`
    closes the form the action came from; `extra` adds to the template's context."""
    node = selectors.comment_alone(membership=membership, comment=comment)
    context = {
        "node": node,
        "membership": membership,
        "group": membership.group,
        "next_submission_id": uuid.uuid4(),
        "clear_slot": clear_slot,
        # The discussion's heading count, refreshed out of band (not for answer threads).
        "comment_count": (
            selectors.discussion_count(membership=membership, passage=comment.passage)
            if recount and not comment.in_answer_thread
            else None
        ),
        **extra,
    }
    if not node.show_body and not node.replies_total:
        # Nothing left to show (deleted, or hidden from this member): the whole comment
        # goes, and the count follows out of band.
        response = render(request, "discussions/discussion.html#gone", context)
        return reswap(retarget(response, f"#comment-{comment.pk}"), "outerHTML")
    return render(request, template, context)
