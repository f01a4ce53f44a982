from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from groups import calendars, permissions, selectors, services
from groups.access import membership_or_404, membership_permitted
from groups.forms import (
    CalendarFeedForm,
    InvitationForm,
    MeetingForm,
    RoleForm,
    SignupForm,
    StudyGroupEditForm,
    StudyGroupForm,
)
from groups.models import CalendarFeed, Meeting, Membership, StudyGroup
from groups.throttling import PASSWORD_RESET, SIGNUP, by_address, limited
from reading import selectors as reading_selectors
from reading.models import Text
from sectstudy.http import NOT_UNDERSTOOD, HtmxHttpRequest, safe_next, slug_or_none


@limited(SIGNUP, subject=by_address)
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HtmxHttpRequest):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
                services.reader_time_zone_set(user=user, time_zone=form.cleaned_data["time_zone"])
        except IntegrityError:
            # Someone signed up with the same name or email a moment ago.
            form.add_error(None, "That username or email address was just taken. Try another.")
            return render(
                request, "registration/signup.html", {"form": form, "next": _next_value(request)}
            )
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to sectstudy, {user.username}.")
        return redirect(safe_next(request, reverse("home")))
    return render(request, "registration/signup.html", {"form": form, "next": _next_value(request)})


def _next_value(request) -> str:
    # A failed POST keeps `next`, so a typo does not lose the way back (e.g. to an invitation).
    return request.POST.get("next") or request.GET.get("next", "")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def group_create(request: HtmxHttpRequest):
    initial = {}
    if text_slug := slug_or_none(request.GET.get("text")):
        initial["text"] = Text.objects.filter(slug=text_slug).first()
    elif Text.objects.count() == 1:
        initial["text"] = Text.objects.first()
    form = StudyGroupForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        group = services.group_create(
            creator=request.user,
            text=form.cleaned_data["text"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            submission_id=form.cleaned_data["submission_id"],
        )
        messages.success(request, f"“{group.name}” is ready. Invite people with the link below.")
        return redirect(group)
    return render(request, "groups/group_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def group_edit(request: HtmxHttpRequest, group_slug: str):
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    group = membership.group
    form = StudyGroupEditForm(request.POST if request.method == "POST" else None, instance=group)
    if request.method == "POST" and form.is_valid():
        services.group_update(
            facilitator=request.user,
            group=group,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
        messages.success(request, "The group's details are saved.")
        return redirect(group)
    return render(request, "groups/group_edit.html", {"form": form, "group": group})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_regenerate(request: HtmxHttpRequest, group_slug: str):
    """GET: the confirmation page (with the new link's expiry); POST: a new link."""
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.invitation_regenerate(
            facilitator=request.user,
            group=membership.group,
            expires_at=form.cleaned_data["expires_at"],
        )
        messages.success(request, "A new invitation link is ready; the old one no longer works.")
        return redirect(membership.group)
    return render(
        request,
        "groups/invitation_regenerate.html",
        {"form": form, "group": membership.group},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def group_join(request: HtmxHttpRequest, invite_token: str):
    group = StudyGroup.objects.select_related("text").filter(invite_token=invite_token).first()
    if group is None or group.is_notebook:  # a notebook invites nobody
        return render(request, "groups/invitation_invalid.html", {"group": None}, status=404)
    if not selectors.invitation_is_valid(group):
        return render(request, "groups/invitation_invalid.html", {"group": group}, status=410)
    if not request.user.is_authenticated:
        return render(
            request,
            "groups/invitation_confirm.html",
            {"group": group, "invite_token": invite_token},
        )
    if group.memberships.filter(user=request.user).exists():
        messages.info(request, f"You are already a member of “{group.name}”.")
        return redirect(group)
    if request.method == "POST":
        try:
            services.group_join(user=request.user, invite_token=invite_token)
        except services.RemovedFromGroup:
            return render(
                request,
                "groups/invitation_invalid.html",
                {"group": group, "removed": True},
                status=403,
            )
        except services.InvitationInvalid:
            return render(request, "groups/invitation_invalid.html", {"group": group}, status=410)
        messages.success(request, f"You joined “{group.name}”.")
        return redirect(group)
    return render(
        request, "groups/invitation_confirm.html", {"group": group, "invite_token": invite_token}
    )


def _target_membership(group, membership_pk):
    return get_object_or_404(
        Membership.objects.select_related("user", "group"), pk=membership_pk, group=group
    )


@login_required
@require_POST
def member_role(request: HtmxHttpRequest, group_slug: str, membership_pk: int):
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    target = _target_membership(membership.group, membership_pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: facilitator or member.")
        return redirect(membership.group)
    try:
        services.membership_set_role(
            acting_user=request.user, membership=target, role=form.cleaned_data["role"]
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{target.user.username} is now a {form.cleaned_data['role']}.")
    return redirect(membership.group)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def member_remove(request: HtmxHttpRequest, group_slug: str, membership_pk: int):
    """GET: the confirmation page; POST: the member is removed."""
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    target = _target_membership(membership.group, membership_pk)
    if request.method != "POST":
        return render(
            request, "groups/member_remove.html", {"target": target, "group": membership.group}
        )
    try:
        services.membership_remove(acting_user=request.user, membership=target)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(membership.group)
    if target.user_id == request.user.pk:
        messages.success(request, f"You left “{membership.group.name}”.")
        return redirect("home")
    messages.success(request, f"{target.user.username} was removed from the group.")
    return redirect(membership.group)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def group_leave(request: HtmxHttpRequest, group_slug: str):
    """GET: the confirmation page; POST: the member leaves."""
    membership = membership_permitted(request, group_slug, permissions.may_leave_group)
    if request.method != "POST":
        sole_facilitator = (
            membership.is_facilitator
            and not membership.group.memberships.filter(role=Membership.Role.FACILITATOR)
            .exclude(pk=membership.pk)
            .exists()
        )
        if sole_facilitator:  # not asked to confirm what would be refused
            messages.error(request, services.LastFacilitatorError().messages[0])
            return redirect(membership.group)
        return render(request, "groups/group_leave.html", {"group": membership.group})
    try:
        services.membership_remove(acting_user=request.user, membership=membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect(membership.group)
    messages.success(request, f"You left “{membership.group.name}”.")
    return redirect("home")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def meeting_edit(request: HtmxHttpRequest, group_slug: str, meeting_pk: int | None = None):
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    group = membership.group
    meeting = (
        get_object_or_404(Meeting, pk=meeting_pk, group=group) if meeting_pk is not None else None
    )
    data = request.POST if request.method == "POST" else None
    form = MeetingForm(data, instance=meeting, group=group)
    if request.method == "POST" and form.is_valid():
        meeting = services.meeting_save(
            facilitator=request.user,
            meeting=form.instance,
            submission_id=form.cleaned_data["submission_id"],
        )
        messages.success(request, f"Meeting saved: read {meeting.passage_range_label} by then.")
        return redirect(meeting)
    return render(
        request, "groups/meeting_form.html", {"form": form, "group": group, "meeting": meeting}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def meeting_cancel(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    """GET: the confirmation page; POST: the meeting is cancelled (it can be restored)."""
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    meeting = get_object_or_404(Meeting, pk=meeting_pk, group=membership.group)
    if request.method != "POST":
        return render(
            request, "groups/meeting_cancel.html", {"meeting": meeting, "group": membership.group}
        )
    services.meeting_cancel(facilitator=request.user, meeting=meeting)
    messages.success(request, "The meeting is cancelled.")
    return redirect(membership.group)


@login_required
@require_POST
def meeting_restore(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    meeting = get_object_or_404(Meeting, pk=meeting_pk, group=membership.group)
    services.meeting_restore(facilitator=request.user, meeting=meeting)
    messages.success(request, "The meeting is on again.")
    return redirect(membership.group)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def notebook(request: HtmxHttpRequest, text_slug: str):
    """The reader's private notebook for a text, opened at their first unread passage.

    Notebooks are made when a reader signs in or a text is added; a GET only reads.
    Should one be missing (a text added during this session), a POST makes it."""
    text = get_object_or_404(Text, slug=text_slug)
    group = StudyGroup.objects.filter(notebook_owner=request.user, text=text).first()
    if group is None:
        if request.method != "POST":
            return render(request, "groups/notebook_start.html", {"text": text})
        group = services.notebook_for(reader=request.user, text=text)
    passage = (
        reading_selectors.first_unread_passage(user=request.user, text=text)
        or text.passages.first()
    )
    if passage is None:  # a text with no passages yet (made in the admin)
        return redirect(f"{text.get_absolute_url()}?group={group.slug}")
    return redirect(f"{passage.get_absolute_url()}?group={group.slug}")


def login_locked_out(request, response=None, credentials=None):
    """django-axes' answer once logging in is paused: say why and for how long (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(
        request,
        "registration/locked_out.html",
        {
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "address_failure_limit": settings.LOGIN_ADDRESS_FAILURE_LIMIT,
            "minutes": minutes,
        },
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def _reset_email(request) -> str:
    return f"email:{request.POST.get('email', '').strip().lower()[:150]}"


@require_http_methods(["GET", "HEAD", "POST"])
@limited(PASSWORD_RESET, subject=by_address)
@limited(PASSWORD_RESET, subject=_reset_email)
def password_reset(request, *args, **kwargs):
    """Django's password reset, with a limit on emails per address and per account."""
    return auth_views.PasswordResetView.as_view()(request, *args, **kwargs)


def _calendar_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_safe
def meeting_calendar(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    """One meeting as a calendar file, to add to a calendar app."""
    membership = membership_or_404(request, group_slug)
    meeting = get_object_or_404(
        Meeting.objects.select_related("group__text"), pk=meeting_pk, group=membership.group
    )
    content = calendars.calendar_file(
        [meeting],
        name=membership.group.name,
        url_for=lambda m: request.build_absolute_uri(m.get_absolute_url()),
    )
    return _calendar_response(content, f"{membership.group.slug}-{meeting.starts_at:%Y-%m-%d}.ics")


@require_safe
def calendar_feed(request: HtmxHttpRequest, token: str):
    """A member's private calendar feed: its secret address is the only key."""
    feed = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token)
    meetings = selectors.calendar_meetings(
        user=feed.user, since=timezone.now() - calendars.FEED_HISTORY
    )
    content = calendars.calendar_file(
        meetings,
        name="Reading group meetings",
        url_for=lambda m: request.build_absolute_uri(m.get_absolute_url()),
    )
    response = _calendar_response(content, "sectstudy-meetings.ics")
    patch_cache_control(response, private=True, max_age=300)
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_settings(request: HtmxHttpRequest):
    """Turn the member's calendar feed on, give it a new address, or turn it off."""
    if request.method == "POST":
        form = CalendarFeedForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["action"] == CalendarFeedForm.STOP:
                services.calendar_feed_stop(user=request.user)
                messages.success(request, "Your calendar address is turned off.")
            else:
                services.calendar_feed_renew(user=request.user)
                messages.success(
                    request, "Your calendar has a new address; any old one no longer works."
                )
        else:
            messages.error(request, NOT_UNDERSTOOD)
        return redirect("calendar_settings")
    feed = CalendarFeed.objects.filter(user=request.user).first()
    return render(
        request,
        "groups/calendar_settings.html",
        {
            "feed_url": request.build_absolute_uri(feed.get_absolute_url()) if feed else "",
            "form": CalendarFeedForm(),
        },
    )
