"""Each reader sees times in their own time zone (ReaderSettings.time_zone), proposed by
the browser at sign-up and editable under Settings; "" means the site's TIME_ZONE."""

import zoneinfo
from functools import cache

from django.conf import settings
from django.utils import timezone

from groups.models import ReaderSettings

SESSION_KEY = "reader_time_zone"  # [user pk, zone name], set at login: no query per page


@cache
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones() - {"Factory", "localtime"}))


def is_zone(name: str) -> bool:
    return name in zone_names()


def zone_choices() -> list[tuple[str, str]]:
    site = f"The site's time zone ({settings.TIME_ZONE})"
    return [("", site), *((name, name.replace("_", " ")) for name in zone_names())]


def reader_zone_name(user) -> str:
    names = ReaderSettings.objects.filter(user=user).values_list("time_zone", flat=True)
    return next(iter(names), "")


def reader_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone a reader chose, for `timezone.override`; None (the site's) if none."""
    return zoneinfo.ZoneInfo(name) if name and is_zone(name) else None


def remember(request, user, name: str) -> None:
    request.session[SESSION_KEY] = [user.pk, name]


class ReaderTimeZoneMiddleware:
    """Activates the signed-in reader's time zone for the request, from the session
    (put there at login and when the reader changes it): no query per page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            cached = request.session.get(SESSION_KEY)
            if cached and cached[0] == user.pk:
                name = cached[1]
        if name and is_zone(name):
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
