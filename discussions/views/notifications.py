"""Notifications of replies, mentions and questions, and the reader's email settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from discussions import selectors, services
from discussions.forms import NotificationPreferenceForm
from sectstudy.http import HtmxHttpRequest


@login_required
@require_GET
def notification_list(request: HtmxHttpRequest):
    notifications = selectors.notifications_for(user=request.user)
    return render(request, "discussions/notifications.html", {"notifications": notifications})


@login_required
@require_POST
def notifications_read(request: HtmxHttpRequest):
    services.notifications_mark_read(user=request.user)
    messages.success(request, "All notifications are marked as read.")
    return redirect("notification_list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HtmxHttpRequest):
    preference = selectors.notification_preference(request.user)  # read only: no write on GET
    # Unticked boxes alone post no fields: bind on the method, not on request.POST's truth.
    form = NotificationPreferenceForm(
        request.POST if request.method == "POST" else None,
        initial={
            "email_replies": preference.email_replies,
            "email_questions": preference.email_questions,
            "email_meetings": preference.email_meetings,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.preference_update(user=request.user, **form.cleaned_data)
        messages.success(request, "Your notification settings are saved.")
        return redirect("notification_settings")
    return render(request, "discussions/notification_settings.html", {"form": form})
