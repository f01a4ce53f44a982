"""Small HTTP helpers shared by every app's views."""

import re

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.middleware import HtmxDetails

SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")
# What a form that no page sends (a junk or empty POST) is answered.
NOT_UNDERSTOOD = "That request was not understood; nothing changed."


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def slug_or_none(value: str | None) -> str | None:
    """A slug from the query string, or None: anything else (say a NUL byte) never reaches SQL."""
    if value and SLUG.fullmatch(value):
        return value
    return None


def safe_next(request, default: str) -> str:
    """`next` from the form or query string when it is a path on this site, else `default`.

    Only absolute paths count: "welcome" or "abc" would otherwise be taken for a URL
    pattern name by redirect() and fail; other hosts would be an open redirect."""
    target = request.POST.get("next") or request.GET.get("next")
    if (
        target
        and target.startswith("/")
        and "\x00" not in target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default
