"""Notifications of replies, mentions and questions, and the reader's email settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from discussions import selectors, services
from discussions.forms import NotificationPreferenceForm
from discussions.models import Notification
from discussions.views.common import discussion_url
from groups import services as group_services
from groups import timezones
from sectstudy.http import HtmxHttpRequest


@login_required
@require_safe
def notification_list(request: HtmxHttpRequest):
    notifications = selectors.notifications_for(user=request.user)
    return render(request, "discussions/notifications.html", {"notifications": notifications})


@login_required
@require_safe
def notification_open(request: HtmxHttpRequest, notification_pk: int):
    """A notification's link: marks it read and goes to what it is about (the comment,
    which the page highlights as its target, or the question). Only the recipient's own
    notifications about groups they are still in; anyone else's: 404. Marking read on
    GET is idempotent and changes nothing but the reader's own unread count."""
    notification = get_object_or_404(
        Notification.objects.for_reader(request.user)
        .select_related("comment__passage", "comment__group__text", "question__group")
        .distinct(),
        pk=notification_pk,
    )
    services.notification_open(user=request.user, notification=notification)
    if notification.comment is not None:
        return redirect(discussion_url(notification.comment, f"comment-{notification.comment_id}"))
    return redirect(notification.question.get_absolute_url())


@login_required
@require_POST
def notifications_read(request: HtmxHttpRequest):
    services.notifications_mark_read(user=request.user)
    messages.success(request, "All notifications are marked as read.")
    return redirect("notification_list")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notification_settings(request: HtmxHttpRequest):
    preference = selectors.notification_preference(request.user)  # read only: no write on GET
    # Unticked boxes alone post no fields: bind on the method, not on request.POST's truth.
    form = NotificationPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={
            "email_replies": preference.email_replies,
            "email_mentions": preference.email_mentions,
            "email_questions": preference.email_questions,
            "email_meetings": preference.email_meetings,
            "email_delivery": preference.email_delivery,
            "time_zone": timezones.reader_zone_name(request.user),
        },
    )
    if request.method == "POST" and form.is_valid():
        time_zone = form.cleaned_data.pop("time_zone")
        group_services.reader_time_zone_set(user=request.user, time_zone=time_zone)
        timezones.remember(request, request.user, time_zone)
        services.preference_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your settings are saved.")
        return redirect("notification_settings")
    return render(request, "discussions/notification_settings.html", {"form": form})
