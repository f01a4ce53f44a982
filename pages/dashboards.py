"""The pages for seeing a group at a glance (the facilitator's grid with the group's
activity chart) and a reader's own page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from groups import permissions
from groups.access import membership_permitted
from pages import glance
from sectstudy.http import HtmxHttpRequest


@login_required
@require_safe
def group_progress(request: HtmxHttpRequest, group_slug: str):
    """Who has read, commented and answered what, passage by passage; and the group's
    activity per week. For facilitators (a notebook's owner sees their own)."""
    membership = membership_permitted(request, group_slug, permissions.may_see_progress_of_members)
    grid = glance.progress_grid(
        membership=membership,
        sort=glance.choice(request.GET.get("sort"), glance.SORTS, "name"),
        scope=glance.choice(request.GET.get("passages"), glance.SCOPES, "all"),
        page=glance.page_number(request.GET.get("page")),
    )
    return render(
        request,
        "pages/group_progress.html",
        {
            "group": membership.group,
            "membership": membership,
            "grid": grid,
            "chart": glance.activity_chart(group=membership.group),
            "sorts": glance.SORTS,
            "scopes": glance.SCOPES,
        },
    )


@login_required
@require_safe
def my_page(request: HtmxHttpRequest):
    """A reader's own page: progress per text, recent comments and the replies to them,
    open questions and the next meetings."""
    return render(request, "pages/my_page.html", {"page": glance.my_page(user=request.user)})
