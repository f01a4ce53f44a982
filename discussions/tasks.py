"""Background work, run through Django's tasks framework after the transaction commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string

from discussions.models import Comment
from discussions.selectors import may_read, user_by_id, wants_question_email, wants_reply_email
from groups.selectors import membership_of_user_id


@task
def send_reply_email(*, comment_id: int, recipient_id: int) -> bool:
    comment = (
        Comment.objects.select_related("author", "group", "passage__text")
        .filter(pk=comment_id)
        .first()
    )
    recipient = user_by_id(recipient_id)
    if comment is None or comment.is_deleted or recipient is None or not recipient.email:
        return False
    if not may_read(membership_of_user_id(recipient.pk, comment.group_id), comment):
        return False  # left the group, or may no longer read it, since it was written
    if not wants_reply_email(recipient_id):
        return False
    context = {
        "comment": comment,
        "recipient": recipient,
        "url": f"{settings.SITE_URL}{comment.passage.get_absolute_url()}?group={comment.group.slug}#comment-{comment.pk}",
        "settings_url": f"{settings.SITE_URL}/settings/notifications/",
    }
    send_mail(
        subject=f"{comment.author.username if comment.author else 'Someone'} replied to you in {comment.group.name}",
        message=render_to_string("discussions/email/reply.txt", context),
        from_email=None,
        recipient_list=[recipient.email],
    )
    return True


@task
def send_question_emails(*, question_id: int, kind: str, recipient_ids: list[int]) -> int:
    """Email members about an assigned question or one due tomorrow, if they allow it."""
    from django.contrib.auth import get_user_model

    from discussions.models import Notification, Question

    question = Question.objects.select_related("group", "meeting").filter(pk=question_id).first()
    if question is None:
        return 0
    due_soon = kind == Notification.Kind.QUESTION_DUE
    subject = (
        f"Due tomorrow in {question.group.name}: a reading question"
        if due_soon
        else f"New reading question in {question.group.name}"
    )
    sent = 0
    for recipient in get_user_model().objects.filter(pk__in=recipient_ids).exclude(email=""):
        if not wants_question_email(recipient.pk):
            continue
        context = {
            "question": question,
            "recipient": recipient,
            "due_soon": due_soon,
            "url": f"{settings.SITE_URL}{question.get_absolute_url()}",
            "settings_url": f"{settings.SITE_URL}/settings/notifications/",
        }
        send_mail(
            subject=subject,
            message=render_to_string("discussions/email/question.txt", context),
            from_email=None,
            recipient_list=[recipient.email],
        )
        sent += 1
    return sent
