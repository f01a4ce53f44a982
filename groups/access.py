"""Looking group content up through the requesting user's membership.

Outsiders get 404 (existence does not leak). A member asking for something a
rule of `groups.permissions` forbids gets 403, except in a private notebook,
which simply has no such page (404).
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from groups.models import Membership


def membership_or_404(request, group_slug: str) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("group", "group__text", "user"),
        group__slug=group_slug,
        user=request.user,
    )


def membership_permitted(
    request, group_slug: str, predicate: Callable[..., bool], *args, **kwargs
) -> Membership:
    """The user's membership of the group, provided the rule allows the action."""
    membership = membership_or_404(request, group_slug)
    if not predicate(membership, *args, **kwargs):
        if membership.group.is_notebook:
            raise Http404("A private notebook has no such page.")
        raise PermissionDenied("Only the group's facilitators can do this.")
    return membership
