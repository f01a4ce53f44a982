"""Writes for discussions. Plain functions, keyword-only arguments, one transaction each.

Emails are enqueued as Django tasks only after the transaction commits.
"""

import re
from functools import partial

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from discussions.anchoring import quote_in_passage
from discussions.markdown import render_markdown
from discussions.models import (
    Comment,
    HelpfulMark,
    Notification,
    NotificationPreference,
    PassageVisit,
)
from reading.models import Membership, Passage, StudyGroup

MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")


def mentioned_usernames(body: str) -> set[str]:
    return {name.rstrip(".") for name in MENTION.findall(body)}


def _quote_fields(passage: Passage, quote: str, quote_start: int | None) -> dict:
    if not quote or not quote.strip():
        return {}
    selector = quote_in_passage(passage.body, quote, quote_start)
    if selector is None:
        raise ValidationError({"quote": "That phrase is not in this passage. Copy it exactly."})
    return {
        "quote_exact": selector.exact,
        "quote_prefix": selector.prefix,
        "quote_suffix": selector.suffix,
        "quote_start": selector.start,
        "quote_end": selector.end,
    }


def comment_create(
    *,
    author,
    group: StudyGroup,
    passage: Passage,
    body: str,
    parent: Comment | None = None,
    quote: str = "",
    quote_start: int | None = None,
) -> Comment:
    if passage.text_id != group.text_id:
        raise ValidationError("That passage is not part of this group's text.")
    if parent is not None:
        if parent.group_id != group.pk or parent.passage_id != passage.pk:
            raise ValidationError("You can only reply within the same discussion.")
        if parent.is_deleted:
            raise ValidationError("That comment was deleted; it can no longer be answered.")
    fields = _quote_fields(passage, quote, quote_start) if parent is None else {}
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                group=group,
                passage=passage,
                author=author,
                parent=parent,
                body=body,
                body_html=render_markdown(body),
                **fields,
            )
            _notify_for_comment(comment)
    except IntegrityError as error:
        # The parent was deleted between the form being shown and submitted.
        raise ValidationError("The comment you replied to was just deleted.") from error
    return comment


def _notify_for_comment(comment: Comment) -> None:
    author_id = comment.author_id
    notifications = []
    reply_recipient = None
    if comment.parent_id and comment.parent.author_id and comment.parent.author_id != author_id:
        reply_recipient = comment.parent.author_id
        notifications.append(
            Notification(
                recipient_id=reply_recipient,
                actor_id=author_id,
                kind=Notification.Kind.REPLY,
                comment=comment,
            )
        )
    usernames = mentioned_usernames(comment.body)
    if usernames:
        mentioned = (
            Membership.objects.filter(group_id=comment.group_id, user__username__in=usernames)
            .exclude(user_id=author_id)
            .values_list("user_id", flat=True)
        )
        notifications.extend(
            Notification(
                recipient_id=user_id,
                actor_id=author_id,
                kind=Notification.Kind.MENTION,
                comment=comment,
            )
            for user_id in mentioned
            if user_id != reply_recipient
        )
    created = Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    for notification in created:
        if notification.kind == Notification.Kind.REPLY:
            transaction.on_commit(partial(_enqueue_reply_email, comment.pk, notification.recipient_id))


def _enqueue_reply_email(comment_id: int, recipient_id: int) -> None:
    from discussions.tasks import send_reply_email

    send_reply_email.enqueue(comment_id=comment_id, recipient_id=recipient_id)


def _require_author(user, comment: Comment) -> None:
    if comment.author_id != user.pk:
        raise PermissionDenied("Only the author can change this comment.")


@transaction.atomic
def comment_edit(*, editor, comment: Comment, body: str) -> Comment:
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    _require_author(editor, comment)
    if comment.is_deleted:
        raise ValidationError("A deleted comment cannot be edited.")
    if body != comment.body:
        comment.body = body
        comment.body_html = render_markdown(body)
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "body_html", "edited_at"])
    return comment


@transaction.atomic
def comment_delete(*, user, comment: Comment) -> Comment | None:
    """Delete a comment; one with replies becomes a tombstone. Returns the tombstone, if any."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    _require_author(user, comment)
    # The row lock above waits for any reply being inserted right now, so this
    # check sees it and the thread keeps its shape.
    if comment.replies.exists():
        comment.deleted_at = timezone.now()
        comment.body = ""
        comment.body_html = ""
        comment.pinned_at = None
        comment.save(update_fields=["deleted_at", "body", "body_html", "pinned_at"])
        return comment
    comment.delete()
    return None


def _require_facilitator(user, group: StudyGroup) -> None:
    if not Membership.objects.filter(
        group=group, user=user, role=Membership.Role.FACILITATOR
    ).exists():
        raise PermissionDenied("Only the group's facilitators can do this.")


@transaction.atomic
def comment_hide(*, moderator, comment: Comment, reason: str) -> Comment:
    _require_facilitator(moderator, comment.group)
    comment.hidden_at = timezone.now()
    comment.hidden_reason = reason
    comment.hidden_by = moderator
    comment.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    return comment


@transaction.atomic
def comment_unhide(*, moderator, comment: Comment) -> Comment:
    _require_facilitator(moderator, comment.group)
    comment.hidden_at = None
    comment.hidden_reason = ""
    comment.hidden_by = None
    comment.save(update_fields=["hidden_at", "hidden_reason", "hidden_by"])
    return comment


@transaction.atomic
def comment_pin(*, moderator, comment: Comment, pinned: bool) -> Comment:
    _require_facilitator(moderator, comment.group)
    if comment.parent_id is not None:
        raise ValidationError("Only top-level comments can be pinned.")
    comment.pinned_at = timezone.now() if pinned else None
    comment.save(update_fields=["pinned_at"])
    return comment


def helpful_set(*, user, comment: Comment, helpful: bool) -> None:
    if comment.author_id == user.pk:
        raise ValidationError("You cannot mark your own comment as helpful.")
    if comment.is_deleted:
        raise ValidationError("A deleted comment cannot be marked helpful.")
    if helpful:
        HelpfulMark.objects.bulk_create(
            [HelpfulMark(comment=comment, user=user)], ignore_conflicts=True
        )
    else:
        HelpfulMark.objects.filter(comment=comment, user=user).delete()


def passage_visit_record(*, user, group: StudyGroup, passage: Passage, now=None):
    """Record this visit; return when the reader last saw this discussion (None: never)."""
    now = now or timezone.now()
    previous = (
        PassageVisit.objects.filter(user=user, group=group, passage=passage)
        .values_list("last_seen_at", flat=True)
        .first()
    )
    PassageVisit.objects.bulk_create(
        [PassageVisit(user=user, group=group, passage=passage, last_seen_at=now)],
        update_conflicts=True,
        unique_fields=["user", "group", "passage"],
        update_fields=["last_seen_at"],
    )
    return previous


def notifications_mark_read(*, user, notification_ids=None) -> int:
    notifications = Notification.objects.filter(recipient=user).unread()
    if notification_ids is not None:
        notifications = notifications.filter(pk__in=notification_ids)
    return notifications.update(read_at=timezone.now())


def preference_update(*, user, email_replies: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_replies": email_replies}
    )
    return preference


def wants_reply_email(user_id: int) -> bool:
    preference = NotificationPreference.objects.filter(user_id=user_id).first()
    return preference.email_replies if preference else True


def user_by_id(user_id: int):
    return get_user_model().objects.filter(pk=user_id).first()
