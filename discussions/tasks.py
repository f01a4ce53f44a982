"""Background work, run through Django's tasks framework after the transaction commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.tasks import task
from django.template.loader import render_to_string

from discussions.models import Comment
from discussions.services import user_by_id, wants_reply_email


@task
def send_reply_email(*, comment_id: int, recipient_id: int) -> bool:
    comment = Comment.objects.select_related("author", "group", "passage__text").filter(pk=comment_id).first()
    recipient = user_by_id(recipient_id)
    if comment is None or comment.is_deleted or recipient is None or not recipient.email:
        return False
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
