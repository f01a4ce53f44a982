"""A meeting's page and its printable handout: what to read, who is ready, the
questions and the threads to talk about, and the notes afterwards."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST, require_safe

from discussions import selectors as discussion_selectors
from discussions import services as discussion_services
from groups import permissions
from groups.access import membership_or_404, membership_permitted
from groups.forms import MeetingNotesForm
from groups.models import Meeting
from pages import selectors
from pages.forms import HandoutThreadsForm
from sectstudy.http import HtmxHttpRequest


def _meeting_or_404(membership, meeting_pk: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.select_related("group__text"), pk=meeting_pk, group=membership.group
    )


def _meeting_page(request, membership, meeting: Meeting, notes_form=None):
    """The meeting's page; facilitators get the notes form (with its errors, if any)."""
    page = selectors.meeting_page(membership=membership, meeting=meeting)
    if notes_form is None and page.may_manage:
        notes_form = MeetingNotesForm(instance=meeting)
    return render(
        request,
        "pages/meeting_detail.html",
        {
            "page": page,
            "meeting": meeting,
            "group": membership.group,
            "membership": membership,
            "notes_form": notes_form,
        },
        status=422 if notes_form is not None and notes_form.errors else 200,
    )


@login_required
@require_safe
def meeting_detail(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    membership = membership_or_404(request, group_slug)
    return _meeting_page(request, membership, _meeting_or_404(membership, meeting_pk))


@login_required
@require_POST
def meeting_notes(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    meeting = _meeting_or_404(membership, meeting_pk)
    form = MeetingNotesForm(request.POST, instance=meeting)
    if form.is_valid():
        discussion_services.meeting_notes_save(
            facilitator=request.user, meeting=meeting, notes=form.cleaned_data["notes"]
        )
        messages.success(request, "The notes are saved; members see them on this page.")
        return redirect(meeting)
    meeting.refresh_from_db()  # the form's invalid notes stay in the form, not on the page
    return _meeting_page(request, membership, meeting, notes_form=form)


@login_required
@require_safe
def meeting_handout(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    membership = membership_or_404(request, group_slug)
    meeting = _meeting_or_404(membership, meeting_pk)
    page = selectors.handout_page(membership=membership, meeting=meeting)
    return render(
        request,
        "pages/meeting_handout.html",
        {"page": page, "meeting": meeting, "group": membership.group, "membership": membership},
    )


@login_required
@require_POST
def handout_threads(request: HtmxHttpRequest, group_slug: str, meeting_pk: int):
    membership = membership_permitted(request, group_slug, permissions.may_manage_group)
    meeting = _meeting_or_404(membership, meeting_pk)
    candidates = discussion_selectors.handout_candidates(membership=membership, meeting=meeting)
    form = HandoutThreadsForm(request.POST, candidates=candidates)
    if form.is_valid():
        chosen = discussion_services.handout_threads_set(
            facilitator=request.user, meeting=meeting, comment_ids=form.cleaned_data["threads"]
        )
        messages.success(
            request, f"{len(chosen)} thread{'s' if len(chosen) != 1 else ''} on the handout."
        )
    else:
        messages.error(request, "Some of those threads are no longer there; nothing changed.")
    return redirect("meeting_handout", group_slug=membership.group.slug, meeting_pk=meeting.pk)
