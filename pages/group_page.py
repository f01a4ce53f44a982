"""A study group's page: its meetings, its members with their reading and how ready each
is for the next meeting (passages read and questions answered: hence composed here, above
discussions), the invitation link and the exports."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from groups import selectors as group_selectors
from groups.access import membership_or_404
from pages import selectors
from sectstudy.http import HtmxHttpRequest


@login_required
@require_safe
def group_detail(request: HtmxHttpRequest, group_slug: str):
    membership = membership_or_404(request, group_slug)
    group = membership.group
    page = group_selectors.group_page(membership=membership)
    context = {
        "page": page,
        "members": selectors.group_members(membership=membership, page=page),
        "group": group,
        "membership": membership,
        "invite_url": request.build_absolute_uri(
            reverse("group_join", kwargs={"invite_token": group.invite_token})
        ),
    }
    return render(request, "groups/group_detail.html", context)
