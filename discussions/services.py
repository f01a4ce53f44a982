"""Writes for discussions. Plain functions, keyword-only arguments, one transaction each.

Emails are enqueued as Django tasks only after the transaction commits.
"""

import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from discussions import selectors
from discussions.anchoring import quote_in_passage, reanchor, selector_at
from discussions.markdown import render_markdown
from discussions.models import (
    Comment,
    HandoutThread,
    HelpfulMark,
    Notification,
    NotificationPreference,
    Question,
)
from discussions.tasks import (
    send_daily_digest,
    send_meeting_reminders,
    send_mention_email,
    send_question_emails,
    send_reply_email,
)
from groups import permissions
from groups.models import Meeting, Membership, StudyGroup
from groups.selectors import membership_of, membership_of_user_id
from reading.models import Passage
from sectstudy import submissions

MENTION = re.compile(r"(?<![\w@])@([\w.@+-]+)")

_emails_muted: ContextVar[bool] = ContextVar("emails_muted", default=False)


@contextmanager
def emails_muted():
    """In-app notifications only: used when loading demo data, which should not send email."""
    token = _emails_muted.set(True)
    try:
        yield
    finally:
        _emails_muted.reset(token)


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


def comments_follow_revision(*, text, revision, changed, absorbed, pieces, **_signal) -> None:
    """After a revision of `text` (reading.signals.text_revised): threads of a passage
    merged into another move there; quotes on changed passages are re-anchored, in
    the split piece where their words now are, approximately where the words were
    corrected, or marked detached when nothing close remains."""
    affected = set(changed) | set(absorbed) | set(pieces)
    if not affected:
        return
    roots = list(Comment.objects.filter(passage_id__in=affected, parent__isnull=True))
    candidate_ids = {pk for ids in pieces.values() for pk in ids} | set(absorbed.values())
    bodies = dict(
        Passage.everything.filter(pk__in=affected | candidate_ids).values_list("pk", "body")
    )
    now = timezone.now()
    quoted, moves = [], {}
    for root in roots:
        if root.passage_id in absorbed:
            candidates = [absorbed[root.passage_id]]
        else:
            candidates = pieces.get(root.passage_id) or [root.passage_id]
            # The piece that kept the passage's identity is tried first.
            candidates = sorted(candidates, key=lambda pk: pk != root.passage_id)
        target = candidates[0]
        if root.has_quote:
            target = _reanchor_quote(root, candidates, bodies, now)
            quoted.append(root)
        if target != root.passage_id:
            moves.setdefault(target, []).append(root.pk)
    for root in quoted:
        root.updated_at = now
    Comment.objects.bulk_update(
        quoted,
        [
            "updated_at",
            "quote_exact",
            "quote_prefix",
            "quote_suffix",
            "quote_start",
            "quote_end",
            "quote_original",
            "quote_detached_at",
            "quote_reattached_at",
        ],
    )
    for target, root_ids in moves.items():
        Comment.objects.filter(Q(pk__in=root_ids) | Q(root_id__in=root_ids)).update(
            passage_id=target
        )


def _reanchor_quote(comment: Comment, candidates: list[int], bodies: dict, now) -> int:
    """Re-anchor one comment's quote among the candidate passages; the passage it is on."""
    found = []
    for rank, pk in enumerate(candidates):
        match = reanchor(
            bodies[pk],
            exact=comment.quote_exact,
            prefix=comment.quote_prefix,
            suffix=comment.quote_suffix,
            start=comment.quote_start if pk == comment.passage_id else None,
        )
        if match is not None:
            found.append((match.errors, -match.score, rank, pk, match))
    if not found:
        comment.quote_detached_at = comment.quote_detached_at or now
        comment.quote_start = comment.quote_end = None
        comment.quote_reattached_at = None
        return candidates[0]
    *_, pk, match = min(found, key=lambda item: item[:3])
    selector = selector_at(bodies[pk], match.start, match.end)
    if match.errors:
        comment.quote_original = comment.quote_original or comment.quote_exact
        comment.quote_reattached_at = None
    comment.quote_exact = selector.exact
    comment.quote_prefix = selector.prefix
    comment.quote_suffix = selector.suffix
    comment.quote_start, comment.quote_end = selector.start, selector.end
    comment.quote_detached_at = None
    return pk


REPLY_TO_DELETED = "That comment was deleted; it can no longer be answered."
AT_DEEPEST = "This thread is nested as deeply as it can be: reply to a comment above."
# Two posts of one form at once, with different words: the one that lost says so.
RESENT_WITH_OTHER_WORDS = "This form was just sent with other words: reload the page and try again."


def comment_create(
    *,
    author,
    group: StudyGroup,
    passage: Passage,
    body: str,
    parent: Comment | None = None,
    quote: str = "",
    quote_start: int | None = None,
    submission_id=None,
) -> Comment:
    """Post a comment or a reply. Posting the same form again (same `submission_id`)
    returns the comment it already made."""
    permissions.require(permissions.may_comment, membership_of(author, group.pk))
    same_post = {
        "group_id": group.pk,
        "passage_id": passage.pk,
        "parent_id": parent.pk if parent is not None else None,
        "body": body,
    }
    submission_id = submissions.with_content(submission_id, *same_post.values())
    existing, submission_id = submissions.made_before(
        submission_id,
        used=Comment.objects.filter(author=author, submission_id=submission_id),
        made=lambda: selectors.submitted_comment(author, submission_id, **same_post),
    )
    if existing:
        return existing
    if passage.text_id != group.text_id:
        raise ValidationError("That passage is not part of this group's text.")
    if parent is not None:
        if parent.group_id != group.pk or parent.passage_id != passage.pk:
            raise ValidationError("You can only reply within the same discussion.")
        if parent.is_deleted:
            raise ValidationError(REPLY_TO_DELETED)
        if parent.at_deepest:
            raise ValidationError(AT_DEEPEST)
    fields = _quote_fields(passage, quote, quote_start) if parent is None else {}
    try:
        with transaction.atomic():
            comment = Comment.objects.create(
                group=group,
                passage=passage,
                author=author,
                parent=parent,
                root_id=parent.thread_root_id if parent is not None else None,
                question_id=parent.question_id if parent is not None else None,
                body=body,
                body_html=render_markdown(body),
                submission_id=submission_id,
                **fields,
            )
            _notify_for_comment(comment)
    except IntegrityError as error:
        if existing := selectors.submitted_comment(author, submission_id, **same_post):
            return existing  # the same form, posted twice at once: the first one won
        if parent is not None and not Comment.objects.filter(pk=parent.pk).exists():
            # The parent was deleted between the form being shown and submitted.
            raise ValidationError("The comment you replied to was just deleted.") from error
        raise ValidationError(RESENT_WITH_OTHER_WORDS) from error
    return comment


def _notify_for_comment(comment: Comment) -> None:
    """A new comment notifies the author it replies to and the members it mentions,
    in the app and by email."""
    reply_recipient = _reply_recipient(comment)
    if reply_recipient is not None:
        Notification.objects.create(
            recipient_id=reply_recipient,
            actor_id=comment.author_id,
            kind=Notification.Kind.REPLY,
            comment=comment,
        )
        transaction.on_commit(
            partial(_enqueue_comment_email, send_reply_email, comment.pk, reply_recipient)
        )
    _notify_mentions(comment, skip_user_id=reply_recipient)


def _reply_recipient(comment: Comment) -> int | None:
    parent_author_id = comment.parent.author_id if comment.parent_id else None
    if parent_author_id is None or parent_author_id == comment.author_id:
        return None
    # Only someone who may read the reply hears about it: the email quotes it.
    recipient = membership_of_user_id(parent_author_id, comment.group_id)
    return parent_author_id if selectors.may_read(recipient, comment) else None


def _notify_mentions(comment: Comment, skip_user_id: int | None = None) -> None:
    """Notify the group members a comment @mentions, in the app and by email; each
    member once per comment, so an edit notifies only those it newly mentions."""
    usernames = mentioned_usernames(comment.body)
    if not usernames:
        return
    mentioned_members = (
        Membership.objects.filter(group_id=comment.group_id, user__username__in=usernames)
        .exclude(user_id=comment.author_id)
        .select_related("group")
    )
    already_told = set(
        Notification.objects.filter(comment=comment).values_list("recipient_id", flat=True)
    )
    # Don't point anyone at writing they may not read (an answer under "answer first").
    newly_mentioned = [
        m.user_id
        for m in mentioned_members
        if m.user_id != skip_user_id
        and m.user_id not in already_told
        and selectors.may_read(m, comment)
    ]
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                actor_id=comment.author_id,
                kind=Notification.Kind.MENTION,
                comment=comment,
            )
            for user_id in newly_mentioned
        ],
        ignore_conflicts=True,
    )
    for user_id in newly_mentioned:
        # A notification made at the same moment by a concurrent edit is emailed once:
        # the task claims it (tasks.email_claim).
        transaction.on_commit(
            partial(_enqueue_comment_email, send_mention_email, comment.pk, user_id)
        )


def _enqueue_comment_email(task_function, comment_id: int, recipient_id: int) -> None:
    if _emails_muted.get():
        return
    task_function.enqueue(comment_id=comment_id, recipient_id=recipient_id)


@transaction.atomic
def comment_edit(*, editor, comment: Comment, body: str) -> Comment:
    comment = _locked_comment(comment)
    if comment.is_deleted:
        raise ValidationError("A deleted comment cannot be edited.")
    _require_author(editor, comment)
    if comment.is_answer and comment.question.is_closed:
        raise QuestionClosed  # as answer_save: a closed question's answers are final
    if body != comment.body:
        comment.body = body
        comment.body_html = render_markdown(body)
        comment.edited_at = timezone.now()
        _save_change(comment, "body", "body_html", "edited_at")
        _notify_mentions(comment)
    return comment


@transaction.atomic
def comment_delete(*, user, comment: Comment) -> Comment:
    """Delete a comment: its words go, a tombstone stays. Threads show it only while it
    has replies (it keeps their shape), and pages open elsewhere learn of the deletion
    from the tombstone's change time (the poll)."""
    comment = _locked_comment(comment)
    if comment.is_deleted and comment.author_id == user.pk:
        return comment  # deleted a moment ago by the same hand (a double submit)
    _require_author(user, comment)
    comment.deleted_at = timezone.now()
    comment.forget_words()
    comment.pinned_at = None
    comment.highlighted_at = None
    _save_change(comment, "deleted_at", *Comment.WORDS, "pinned_at", "highlighted_at")
    return comment


@transaction.atomic
def comment_quote_reattach(
    *, user, comment: Comment, quote: str, quote_start: int | None = None
) -> Comment:
    """Anchor a detached quote (a revision left nothing close to its words) to words
    chosen in the passage now. The words first quoted stay on record."""
    comment = _locked_comment(comment)
    permissions.require(
        permissions.may_reattach_quote,
        membership_of(user, comment.group_id),
        comment,
        message="Only the author or a facilitator can re-attach this quote.",
    )
    passage = comment.passage
    if passage.is_removed:
        raise ValidationError("This passage is no longer in the text: its quotes stay as they are.")
    fields = _quote_fields(passage, quote, quote_start)
    if not fields:
        raise ValidationError({"quote": "Choose the words of the passage this comment is about."})
    comment.quote_original = comment.quote_original or comment.quote_exact
    for name, value in fields.items():
        setattr(comment, name, value)
    comment.quote_detached_at = None
    comment.quote_reattached_at = timezone.now()
    _save_change(comment, *fields, "quote_original", "quote_detached_at", "quote_reattached_at")
    return comment


def _require_author(user, comment: Comment) -> None:
    permissions.require(
        permissions.may_edit_comment,
        membership_of(user, comment.group_id),
        comment,
        message="Only the author can change this comment.",
    )


def _require_standing(comment: Comment, done: str) -> None:
    """Moderation acts on comments that still stand: a deleted one is only a tombstone."""
    if comment.is_deleted:
        raise ValidationError(f"A deleted comment cannot be {done}.")


def _require_moderator(user, group_id: int) -> None:
    permissions.require(
        permissions.may_moderate,
        membership_of(user, group_id),
        message="Only the group's facilitators can do this.",
    )


def _require_question_manager(user, group_id: int) -> None:
    permissions.require(
        permissions.may_manage_questions,
        membership_of(user, group_id),
        message="Only the group's facilitators can manage its questions.",
    )


def _save_change(comment: Comment, *fields: str) -> None:
    """Save what changed, and when: open pages ask for the comments changed since."""
    comment.updated_at = timezone.now()
    comment.save(update_fields=[*fields, "updated_at"])


def _locked_comment(comment: Comment) -> Comment:
    """The comment's row, locked for this transaction; 404 when a concurrent request
    (a double-clicked delete, say) removed it first."""
    return get_object_or_404(
        Comment.objects.select_for_update(of=("self",)).select_related("group", "question"),
        pk=comment.pk,
    )


@transaction.atomic
def comment_hide(*, moderator, comment: Comment, reason: str) -> Comment:
    _require_moderator(moderator, comment.group_id)
    comment = _locked_comment(comment)
    _require_standing(comment, "hidden")
    comment.hidden_at = timezone.now()
    comment.hidden_reason = reason
    comment.hidden_by = moderator
    _save_change(comment, "hidden_at", "hidden_reason", "hidden_by")
    return comment


@transaction.atomic
def comment_unhide(*, moderator, comment: Comment) -> Comment:
    _require_moderator(moderator, comment.group_id)
    comment = _locked_comment(comment)
    _require_standing(comment, "shown again")
    comment.hidden_at = None
    comment.hidden_reason = ""
    comment.hidden_by = None
    _save_change(comment, "hidden_at", "hidden_reason", "hidden_by")
    return comment


@transaction.atomic
def comment_pin(*, moderator, comment: Comment, pinned: bool) -> Comment:
    _require_moderator(moderator, comment.group_id)
    comment = _locked_comment(comment)
    _require_standing(comment, "pinned")
    if comment.parent_id is not None or comment.in_answer_thread:
        raise ValidationError("Only top-level comments of the discussion can be pinned.")
    comment.pinned_at = timezone.now() if pinned else None
    _save_change(comment, "pinned_at")
    return comment


def helpful_set(*, user, comment: Comment, helpful: bool) -> None:
    membership = membership_of(user, comment.group_id)
    permissions.require(permissions.may_view_group, membership)
    if not permissions.may_mark_helpful(membership, comment):
        raise ValidationError(
            "A deleted comment cannot be marked helpful."
            if comment.is_deleted
            else "You cannot mark your own comment as helpful."
        )
    if helpful:
        try:
            with transaction.atomic():
                HelpfulMark.objects.bulk_create(
                    [HelpfulMark(comment=comment, user=user)], ignore_conflicts=True
                )
        except IntegrityError as error:  # the comment was deleted a moment ago
            raise Http404("That comment no longer exists.") from error
    else:
        HelpfulMark.objects.filter(comment=comment, user=user).delete()
    # Its count may have changed: pages open elsewhere show the new one.
    Comment.objects.filter(pk=comment.pk).update(updated_at=timezone.now())


def passage_visit_record(*, user, group: StudyGroup, passage: Passage, now=None):
    """Record this visit; return when the reader last saw this discussion (None: never)."""
    visit = {
        "user": user.pk,
        "group": group.pk,
        "passage": passage.pk,
        "now": now or timezone.now(),
    }
    with connection.cursor() as cursor:
        cursor.execute(_RECORD_VISIT, visit)
        row = cursor.fetchone()
    return row[0] if row else None


# One statement for every passage page: the previous time is read in the snapshot the
# upsert starts from (one_visit_per_user_group_passage is the conflict's target).
_RECORD_VISIT = """
WITH previous AS (
    SELECT last_seen_at FROM discussions_passagevisit
    WHERE user_id = %(user)s AND group_id = %(group)s AND passage_id = %(passage)s
), recorded AS (
    INSERT INTO discussions_passagevisit (user_id, group_id, passage_id, last_seen_at)
    VALUES (%(user)s, %(group)s, %(passage)s, %(now)s)
    ON CONFLICT (user_id, group_id, passage_id) DO UPDATE SET last_seen_at = EXCLUDED.last_seen_at
)
SELECT last_seen_at FROM previous
"""


def notifications_mark_read(*, user, notification_ids=None) -> int:
    notifications = Notification.objects.filter(recipient=user).unread()
    if notification_ids is not None:
        notifications = notifications.filter(pk__in=notification_ids)
    return notifications.update(read_at=timezone.now())


def notification_open(*, user, notification: Notification) -> None:
    """The reader opened a notification: it is read. Idempotent (the first opening's
    time stays), and only the recipient's own notification changes."""
    Notification.objects.filter(pk=notification.pk, recipient=user).unread().update(
        read_at=timezone.now()
    )


@transaction.atomic
def preference_update(
    *,
    user,
    email_replies: bool,
    email_mentions: bool = True,
    email_questions: bool = True,
    email_meetings: bool = True,
    email_delivery: str = NotificationPreference.Delivery.IMMEDIATE,
) -> NotificationPreference:
    fields = {
        "email_replies": email_replies,
        "email_mentions": email_mentions,
        "email_questions": email_questions,
        "email_meetings": email_meetings,
        "email_delivery": email_delivery,
    }
    current = NotificationPreference.objects.select_for_update().filter(user=user).first()
    daily = NotificationPreference.Delivery.DAILY
    if email_delivery == daily and (current is None or current.email_delivery != daily):
        # The digest starts now: the first one, next morning, lists what comes after.
        fields["digest_sent_at"] = timezone.now()
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults=fields)
    return preference


# Questions ----------------------------------------------------------------


def _enqueue_question_email(question_id: int, kind: str, recipient_ids: list[int]) -> None:
    if _emails_muted.get():
        return
    send_question_emails.enqueue(question_id=question_id, kind=kind, recipient_ids=recipient_ids)


def _notify_members_of_question(question: Question, kind: str, recipients) -> list[int]:
    recipient_ids = list(recipients)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id, actor_id=question.created_by_id, kind=kind, question=question
            )
            for user_id in recipient_ids
        ],
        ignore_conflicts=True,
    )
    if recipient_ids:
        transaction.on_commit(
            partial(_enqueue_question_email, question.pk, str(kind), recipient_ids)
        )
    return recipient_ids


@transaction.atomic
def question_create(*, facilitator, group: StudyGroup, submission_id=None, **fields) -> Question:
    """Assign a question. Posting the same form again returns the question it made."""
    _require_question_manager(facilitator, group.pk)
    # The same question in the same place is a retry; anything else, the form used again.
    same_question = {
        "group": group,
        "body": fields.get("body", ""),
        "first_position": fields.get("first_position"),
        "last_position": fields.get("last_position"),
    }
    submission_id = submissions.with_content(
        submission_id,
        group.pk,
        same_question["body"],
        same_question["first_position"],
        same_question["last_position"],
    )
    earlier = Question.objects.filter(created_by=facilitator, submission_id=submission_id)
    existing, submission_id = submissions.made_before(
        submission_id, used=earlier, made=earlier.filter(**same_question).first
    )
    if existing:
        return existing
    last = (
        Question.objects.filter(group=group, first_position=fields["first_position"])
        .order_by("-order")
        .values_list("order", flat=True)
        .first()
    )
    question = Question(
        group=group,
        created_by=facilitator,
        order=(last or 0) + 1,
        submission_id=submission_id,
        **fields,
    )
    question.body_html = render_markdown(question.body)
    question.full_clean(exclude=["submission_id"])
    try:
        with transaction.atomic():
            question.save()
    except IntegrityError as error:
        # The same form, posted twice at once: the first one won.
        if existing := Question.objects.filter(
            created_by=facilitator, submission_id=submission_id, **same_question
        ).first():
            return existing
        raise ValidationError(RESENT_WITH_OTHER_WORDS) from error
    members = (
        # Assigned to the members, as the due reminders are; no co-facilitator either.
        Membership.objects.filter(group=group, role=Membership.Role.MEMBER)
        .exclude(user=facilitator)
        .values_list("user_id", flat=True)
    )
    _notify_members_of_question(question, Notification.Kind.QUESTION_ASSIGNED, members)
    return question


@transaction.atomic
def question_update(*, facilitator, question: Question) -> Question:
    _require_question_manager(facilitator, question.group_id)
    stored = Question.objects.select_related("meeting").get(pk=question.pk)
    if stored.due != question.due:
        question.due_reminder_sent_at = None  # a new due date earns a new reminder
    question.body_html = render_markdown(question.body)
    question.full_clean()
    question.save()
    return question


@transaction.atomic
def question_set_closed(*, facilitator, question: Question, closed: bool) -> Question:
    _require_question_manager(facilitator, question.group_id)
    question = get_object_or_404(Question.objects.select_for_update(no_key=True), pk=question.pk)
    question.closed_at = timezone.now() if closed else None
    question.save(update_fields=["closed_at"])
    return question


@transaction.atomic
def question_delete(*, facilitator, question: Question) -> None:
    _require_question_manager(facilitator, question.group_id)
    question.delete()


@transaction.atomic
def question_move(*, facilitator, question: Question, direction: int) -> None:
    """Swap a question with its neighbour on the same passage (direction -1 up, +1 down)."""
    _require_question_manager(facilitator, question.group_id)
    siblings = list(
        Question.objects.select_for_update()
        .filter(group=question.group, first_position=question.first_position)
        .order_by("order", "pk")
    )
    index = next((i for i, q in enumerate(siblings) if q.pk == question.pk), None)
    if index is None:  # deleted by a concurrent request
        return
    other = index + direction
    if not 0 <= other < len(siblings):
        return
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for order, sibling in enumerate(siblings, start=1):
        if sibling.order != order:
            sibling.order = order
            sibling.save(update_fields=["order"])


class QuestionClosed(ValidationError):
    def __init__(self):
        super().__init__("This question is closed: it takes no more answers.")


def answer_save(*, author, question: Question, body: str) -> Comment:
    """Create the member's answer, or replace it: one answer per member per question."""
    permissions.require(permissions.may_view_group, membership_of(author, question.group_id))
    if question.is_closed:
        raise QuestionClosed
    passage = Passage.objects.get(text_id=question.group.text_id, position=question.first_position)
    for _attempt in range(2):
        with transaction.atomic():
            # Shares the question's row lock with closing it, so no answer slips in after.
            locked = Question.objects.select_for_update(no_key=True).filter(pk=question.pk).first()
            if locked is None:
                raise Http404("That question was deleted.")
            if locked.is_closed:
                raise QuestionClosed
            existing = (
                Comment.objects.select_for_update()
                .answers()
                .filter(question=question, author=author)
                .first()
            )
            if existing is not None:
                return comment_edit(editor=author, comment=existing, body=body)
            try:
                with transaction.atomic():
                    answer = Comment.objects.create(
                        group_id=question.group_id,
                        passage=passage,
                        author=author,
                        question=question,
                        body=body,
                        body_html=render_markdown(body),
                    )
                    _notify_for_comment(answer)
                    return answer
            except IntegrityError:
                # A concurrent request created the answer first: update that one.
                continue
    raise ValidationError("Your answer could not be saved; please try again.")


@transaction.atomic
def answer_set_highlighted(*, facilitator, answer: Comment, highlighted: bool) -> Comment:
    _require_moderator(facilitator, answer.group_id)
    answer = _locked_comment(answer)
    _require_standing(answer, "highlighted")
    if answer.question_id is None or answer.parent_id is not None:
        raise ValidationError("Only answers can be highlighted.")
    answer.highlighted_at = timezone.now() if highlighted else None
    _save_change(answer, "highlighted_at")
    return answer


def question_due_reminders(*, now=None) -> int:
    """Notify members who have not answered, a day before a question is due.

    Run periodically (`manage.py send_due_reminders`); each question is reminded once.
    """

    now = now or timezone.now()
    horizon = now + timedelta(days=1)
    sent = 0
    questions = (
        Question.objects.open().filter(due_reminder_sent_at__isnull=True).select_related("meeting")
    )
    for question in questions:
        due = question.due
        if due is None or not now < due <= horizon:
            continue
        with transaction.atomic():
            locked = (
                Question.objects.select_for_update(skip_locked=True)
                .filter(pk=question.pk, due_reminder_sent_at__isnull=True)
                .first()
            )
            if locked is None:
                continue
            answered = Comment.objects.answers().filter(question=question).values("author_id")
            recipients = (
                Membership.objects.filter(group_id=question.group_id, role=Membership.Role.MEMBER)
                .exclude(user_id__in=answered)
                .values_list("user_id", flat=True)
            )
            sent += len(
                _notify_members_of_question(question, Notification.Kind.QUESTION_DUE, recipients)
            )
            locked.due_reminder_sent_at = now
            locked.save(update_fields=["due_reminder_sent_at"])
    return sent


@transaction.atomic
def meeting_notes_save(*, facilitator, meeting: Meeting, notes: str) -> Meeting:
    """A facilitator's notes from a meeting, in Markdown, rendered once here."""
    permissions.require(permissions.may_manage_group, membership_of(facilitator, meeting.group_id))
    meeting.notes = notes
    meeting.notes_html = render_markdown(notes) if notes.strip() else ""
    meeting.full_clean()
    meeting.save(update_fields=["notes", "notes_html", "updated_at"])
    return meeting


def meeting_reminders(*, now=None) -> int:
    """A day before each meeting, remind its group's members by email, each with the
    passages they have not read. Once per start time: a meeting moved later is
    reminded again for its new time. Returns how many meetings were reminded."""
    now = now or timezone.now()
    due = (
        Meeting.objects.scheduled()
        .filter(
            starts_at__gt=now,
            starts_at__lte=now + timedelta(days=1),
            group__notebook_owner__isnull=True,
        )
        .exclude(reminder_sent_for=F("starts_at"))
    )
    reminded = 0
    for meeting in due:
        with transaction.atomic():
            locked = (
                Meeting.objects.select_for_update(skip_locked=True)
                .filter(pk=meeting.pk, cancelled_at__isnull=True)
                .exclude(reminder_sent_for=F("starts_at"))
                .first()
            )
            if locked is None:
                continue  # another run has it
            locked.reminder_sent_for = locked.starts_at
            # Not updated_at: calendars need not fetch the meeting again for this.
            locked.save(update_fields=["reminder_sent_for"])
            recipient_ids = list(
                Membership.objects.filter(group_id=locked.group_id).values_list(
                    "user_id", flat=True
                )
            )
            if not _emails_muted.get():
                transaction.on_commit(
                    partial(
                        send_meeting_reminders.enqueue,
                        meeting_id=locked.pk,
                        recipient_ids=recipient_ids,
                    )
                )
            reminded += 1
    return reminded


def daily_digests(*, now=None) -> int:
    """Start the daily digest of each reader who chose it and whose morning it is
    (selectors.digest_due): once per local day, and a run retried or doubled starts none
    twice. Run hourly with the reminders (`manage.py send_due_reminders`). Returns how
    many digests were started (a digest with nothing new sends nothing)."""
    now = now or timezone.now()
    started = 0
    for reader in selectors.digest_readers_due(now=now):
        with transaction.atomic():
            # Moves the reader's mark only from where this run saw it (None: IS NULL):
            # of two runs at once, the second updates nothing.
            moved = NotificationPreference.objects.filter(
                user_id=reader.user_id,
                email_delivery=NotificationPreference.Delivery.DAILY,
                digest_sent_at=reader.sent_at,
            ).update(digest_sent_at=now)
            if not moved:
                continue
            since = reader.sent_at or now - selectors.FIRST_DIGEST_COVERS
            if not _emails_muted.get():
                transaction.on_commit(
                    partial(
                        send_daily_digest.enqueue,
                        user_id=reader.user_id,
                        since=since.isoformat(),
                        until=now.isoformat(),
                    )
                )
            started += 1
    return started


@transaction.atomic
def handout_threads_set(*, facilitator, meeting: Meeting, comment_ids: list[int]) -> list[int]:
    """Choose the threads printed on a meeting's handout: top-level comments of the
    meeting's group on its passages. Returns the ids now on the handout."""
    membership = membership_of(facilitator, meeting.group_id)
    permissions.require(permissions.may_manage_group, membership)
    allowed = {
        row.comment.pk
        for row in selectors.handout_candidates(membership=membership, meeting=meeting)
    }
    chosen = [pk for pk in dict.fromkeys(comment_ids) if pk in allowed]
    HandoutThread.objects.filter(meeting=meeting).exclude(comment_id__in=chosen).delete()
    HandoutThread.objects.bulk_create(
        [HandoutThread(meeting=meeting, comment_id=pk) for pk in chosen], ignore_conflicts=True
    )
    return chosen
