"""Looking things up through the requesting user's membership.

Outsiders get 404 (existence does not leak); members asking for a
facilitator-only action get 403.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from groups.models import Membership


def membership_or_404(request, group_slug: str) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("group", "group__text", "user"),
        group__slug=group_slug,
        user=request.user,
    )


def facilitator_membership_or_403(request, group_slug: str) -> Membership:
    membership = membership_or_404(request, group_slug)
    if not membership.is_facilitator:
        raise PermissionDenied("Only the group's facilitators can do this.")
    return membership
