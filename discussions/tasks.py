"""Background work, run through Django's tasks framework after the transaction commits.

Each email task checks, when it runs, that the recipient may still read what it
quotes. An email is about a notification (a daily digest about several), and the
notification records that it was emailed just before it goes out, so a task that runs
again (a retry, or a task recovered from a worker that died mid-task, see `manage.py
db_worker`) never sends it twice, nor does a digest list what an email told already.
Readers who chose the daily digest get no email per reply, mention or question: the
tasks for those leave them to the digest (selectors.email_recipients).

A send that fails (the mail server is down, say) is tried again later with a growing
delay, up to MAX_ATTEMPTS, when the task backend can defer work (the database queue in
production); the final failure is raised, so the queue records the task as FAILED,
with the error.
"""

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.tasks import task, task_backends
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from discussions.models import Comment, Notification, Question
from discussions.selectors import (
    comment_notification_id,
    daily_digest,
    email_recipients,
    may_read,
    meeting_reminder_recipients,
    question_notification_ids,
)
from groups.models import Meeting, on_one_line
from groups.selectors import membership_of_user_id
from groups.timezones import reader_zone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
SEND_ERRORS = (smtplib.SMTPException, OSError)


def retry_later(task_function, attempt: int, **kwargs) -> bool:
    """Enqueue the task again after 1, 2, 4, 8 minutes; False when it may not be retried."""
    backend = task_backends[task_function.backend]
    if attempt >= MAX_ATTEMPTS or not backend.supports_defer:
        return False
    delay = timedelta(minutes=2 ** (attempt - 1))
    task_function.using(run_after=timezone.now() + delay).enqueue(attempt=attempt + 1, **kwargs)
    return True


def recover_stale_tasks(*, backend_name: str, worker_id: str, now=None) -> int:
    """Put back to READY the tasks a worker left RUNNING when it died: those last claimed
    under `worker_id` (that worker is starting again, so its previous run is over) and
    those running for longer than TASKS_STALE_AFTER. How many were put back."""
    from django_tasks_db.models import DBTaskResult

    stale_before = (now or timezone.now()) - settings.TASKS_STALE_AFTER
    running = DBTaskResult.objects.filter(backend_name=backend_name, status="RUNNING")
    recovered = 0
    for pk, worker_ids, started_at in running.values_list("pk", "worker_ids", "started_at"):
        claimed_by_me = bool(worker_ids) and worker_ids[-1] == worker_id
        if claimed_by_me or started_at is None or started_at < stale_before:
            # Unless another worker took it back (or it finished) meanwhile.
            recovered += running.filter(pk=pk, started_at=started_at).update(status="READY")
    return recovered


def email_claim(*, notification_ids: list[int]) -> list[int]:
    """Record that these notifications' email is going out now; the ids this run may
    email: not those that went out already, nor those another run of a task is sending
    at this moment (their rows are locked, and skipped). Of two runs only one sends
    each: at most once, even across a worker that died after sending. (Here rather than
    in services, which enqueue these tasks.)"""
    with transaction.atomic():
        claimed = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk__in=notification_ids, emailed_at__isnull=True)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=claimed).update(emailed_at=timezone.now())
    return claimed


def email_release(*, notification_ids: list[int]) -> None:
    """Their email could not be sent: a later attempt may send it."""
    Notification.objects.filter(pk__in=notification_ids).update(emailed_at=None)


def settings_url() -> str:
    return f"{settings.SITE_URL}{reverse('notification_settings')}"


def render_email(template: str, context: dict, *, time_zone: str) -> str:
    """An email's text, its times in the recipient's time zone ("" for the site's)."""
    with timezone.override(reader_zone(time_zone)):
        return render_to_string(template, context)


# What each comment email says: its template and subject (the comment's author, its group).
COMMENT_EMAILS = {
    Notification.Kind.REPLY: ("discussions/email/reply.txt", "{author} replied to you in {group}"),
    Notification.Kind.MENTION: (
        "discussions/email/mention.txt",
        "{author} mentioned you in {group}",
    ),
}


@task
def send_reply_email(*, comment_id: int, recipient_id: int, attempt: int = 1) -> bool:
    return _send_comment_email(
        send_reply_email,
        Notification.Kind.REPLY,
        comment_id=comment_id,
        recipient_id=recipient_id,
        attempt=attempt,
    )


@task
def send_mention_email(*, comment_id: int, recipient_id: int, attempt: int = 1) -> bool:
    return _send_comment_email(
        send_mention_email,
        Notification.Kind.MENTION,
        comment_id=comment_id,
        recipient_id=recipient_id,
        attempt=attempt,
    )


def _send_comment_email(task_function, kind: str, *, comment_id, recipient_id, attempt) -> bool:
    """Email one reader about a comment that replies to or mentions them: the body of
    both tasks above (each its own task, so the queue names what it holds)."""
    comment = (
        Comment.objects.select_related("author", "group", "passage__text", "question")
        .filter(pk=comment_id)
        .first()
    )
    if comment is None or comment.is_deleted:
        return False
    recipients = email_recipients(kind=kind, user_ids=[recipient_id], group_id=comment.group_id)
    if not recipients:
        return False  # no address, such emails turned off, or no longer in the group
    recipient = recipients[0]
    if not may_read(membership_of_user_id(recipient_id, comment.group_id), comment):
        return False  # may no longer read it (hidden, "answer first") since it was written
    notification_id = comment_notification_id(
        kind=kind, comment_id=comment_id, recipient_id=recipient_id
    )
    if notification_id is None or not email_claim(notification_ids=[notification_id]):
        return False  # nothing to tell, or told already by an earlier run
    template, subject = COMMENT_EMAILS[kind]
    context = {
        "comment": comment,
        "recipient": recipient.user,
        "url": f"{settings.SITE_URL}{comment.passage.get_absolute_url()}?group={comment.group.slug}#comment-{comment.pk}",
        "settings_url": settings_url(),
    }
    try:
        send_mail(
            subject=on_one_line(
                subject.format(
                    author=comment.author.username if comment.author else "Someone",
                    group=comment.group.name,
                )
            ),
            message=render_email(template, context, time_zone=recipient.time_zone),
            from_email=None,
            recipient_list=[recipient.user.email],
        )
    except SEND_ERRORS:
        email_release(notification_ids=[notification_id])
        logger.warning(
            "%s email %s to user %s failed (attempt %s)", kind, comment_id, recipient_id, attempt
        )
        if not retry_later(
            task_function, attempt, comment_id=comment_id, recipient_id=recipient_id
        ):
            raise  # the last attempt: the task fails, with the error
        return False
    except Exception:
        # The message could not be made: the task fails with the error, and the
        # notification is not recorded as emailed.
        email_release(notification_ids=[notification_id])
        raise
    return True


@task
def send_question_emails(
    *, question_id: int, kind: str, recipient_ids: list[int], attempt: int = 1
) -> int:
    """Email members about an assigned question or one due tomorrow, if they allow it."""
    question = Question.objects.select_related("group", "meeting").filter(pk=question_id).first()
    if question is None:
        return 0
    due_soon = kind == Notification.Kind.QUESTION_DUE
    subject = (
        f"Due tomorrow in {question.group.name}: a reading question"
        if due_soon
        else f"New reading question in {question.group.name}"
    )
    notification_ids = question_notification_ids(
        question_id=question_id, kind=kind, recipient_ids=recipient_ids
    )
    sent = 0
    failed = []
    error = None
    unexpected = None
    # Only those still in the group when the email goes out.
    recipients = email_recipients(kind=kind, user_ids=recipient_ids, group_id=question.group_id)
    for recipient in recipients:
        notification_id = notification_ids.get(recipient.user.pk)
        if notification_id is None or not email_claim(notification_ids=[notification_id]):
            continue  # nothing to tell, or told already by an earlier run
        context = {
            "question": question,
            "recipient": recipient.user,
            "due_soon": due_soon,
            "url": f"{settings.SITE_URL}{question.get_absolute_url()}",
            "settings_url": settings_url(),
        }
        try:
            send_mail(
                subject=on_one_line(subject),
                message=render_email(
                    "discussions/email/question.txt", context, time_zone=recipient.time_zone
                ),
                from_email=None,
                recipient_list=[recipient.user.email],
            )
        except SEND_ERRORS as send_error:
            email_release(notification_ids=[notification_id])
            failed.append(recipient.user.pk)
            error = send_error
            continue
        except Exception as cannot_make:
            # As in _send_comment_email, after the others have had theirs.
            email_release(notification_ids=[notification_id])
            unexpected = cannot_make
            continue
        sent += 1
    if failed:
        logger.warning("Question email %s failed for %s (attempt %s)", question_id, failed, attempt)
        if not retry_later(
            send_question_emails, attempt, question_id=question_id, kind=kind, recipient_ids=failed
        ):
            raise error  # the last attempt: the task fails, with the (last) error
    if unexpected is not None:
        raise unexpected
    return sent


@task
def send_meeting_reminders(*, meeting_id: int, recipient_ids: list[int], attempt: int = 1) -> int:
    """Email members a day before a meeting, each with the passages they have not read."""
    meeting = Meeting.objects.select_related("group__text").filter(pk=meeting_id).first()
    if meeting is None or meeting.is_cancelled or meeting.reminder_sent_for != meeting.starts_at:
        return 0  # cancelled or moved since: the new time gets its own reminder
    recipients = meeting_reminder_recipients(meeting=meeting, user_ids=recipient_ids)
    sent, failed, error = 0, [], None
    for recipient in recipients:
        context = {
            "meeting": meeting,
            "recipient": recipient,
            "unread": recipient.unread,
            "url": f"{settings.SITE_URL}{meeting.get_absolute_url()}",
            "site_url": settings.SITE_URL,
            "settings_url": settings_url(),
        }
        try:
            send_mail(
                subject=on_one_line(
                    f"Tomorrow in {meeting.group.name}: read {meeting.passage_range_label}"
                ),
                message=render_email(
                    "discussions/email/meeting.txt", context, time_zone=recipient.time_zone
                ),
                from_email=None,
                recipient_list=[recipient.user.email],
            )
        except SEND_ERRORS as send_error:
            failed.append(recipient.user.pk)
            error = send_error
            continue
        sent += 1
    if failed:
        logger.warning(
            "Meeting reminder %s failed for %s (attempt %s)", meeting_id, failed, attempt
        )
        if not retry_later(
            send_meeting_reminders, attempt, meeting_id=meeting_id, recipient_ids=failed
        ):
            raise error  # the last attempt: the task fails, with the (last) error
    return sent


@task
def send_daily_digest(*, user_id: int, since: str, until: str, attempt: int = 1) -> int:
    """Email a reader of the daily digest what they were notified of from `since` to
    `until` (ISO times) and have not opened nor been emailed, as selectors.daily_digest
    chooses it when the email goes out; nothing when there is nothing. How many
    notifications it listed."""
    digest = daily_digest(
        user_id=user_id, since=datetime.fromisoformat(since), until=datetime.fromisoformat(until)
    )
    if digest is None or not digest.groups:
        return 0
    claimed = email_claim(notification_ids=digest.notification_ids)
    digest = digest.only(claimed)
    if not digest.groups:
        return 0  # listed already by an earlier run
    count = len(claimed)
    context = {
        "digest": digest,
        "site_url": settings.SITE_URL,
        "settings_url": settings_url(),
    }
    try:
        send_mail(
            subject=f"Your daily digest: {count} new notification{'s' if count != 1 else ''}",
            message=render_email(
                "discussions/email/digest.txt", context, time_zone=digest.time_zone
            ),
            from_email=None,
            recipient_list=[digest.user.email],
        )
    except SEND_ERRORS:
        email_release(notification_ids=claimed)
        logger.warning("Daily digest to user %s failed (attempt %s)", user_id, attempt)
        if not retry_later(send_daily_digest, attempt, user_id=user_id, since=since, until=until):
            raise  # the last attempt: the task fails, with the error
        return 0
    return count
