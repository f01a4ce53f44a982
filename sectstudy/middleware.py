import functools
import zoneinfo

from django.utils import timezone
from django.utils.cache import patch_vary_headers


class VaryOnHtmxMiddleware:
    """Views answer htmx requests with a fragment and others with the whole page at the
    same URL, so caches and browser history must keep the two apart."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_vary_headers(response, ("HX-Request",))
        return response


# The cookie the browser sets (static/js/site.js) with its IANA time zone name.
TIME_ZONE_COOKIE = "tz"


@functools.cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class ReaderTimeZoneMiddleware:
    """Dates and times are shown, and typed into forms, in the reader's own time zone,
    which their browser reports in a cookie; without it (or with a name that is not a
    time zone), in the server's TIME_ZONE. Pages name the zone beside the times."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(TIME_ZONE_COOKIE, "")
        if name in known_time_zones():
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
