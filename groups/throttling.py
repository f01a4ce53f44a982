"""Limits on how fast one reader (or one address) may post, sign up or ask for
password resets, shared by every app server through a PostgreSQL counter.

Each limit counts actions in fixed windows with one atomic upsert
(INSERT ... ON CONFLICT DO UPDATE ... RETURNING), so concurrent requests on any
server see the same count. Logins are limited by django-axes (see settings).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from groups.models import ActionCount


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    per: timedelta
    message: str
    # Past it, the 429 page gives back what was written, in a form that posts it again
    # (without JavaScript the words would be lost). Never for forms with passwords.
    gives_back_writing: bool = False


POSTING = Limit(
    "post",
    20,
    timedelta(minutes=1),
    "You are posting very quickly. Wait a minute, then post again: what you wrote is still here.",
    gives_back_writing=True,
)
POSTING_DAILY = Limit(
    "post-day",
    500,
    timedelta(days=1),
    "You have posted a great deal today. Try again tomorrow.",
    gives_back_writing=True,
)
SIGNUP = Limit(
    "signup", 10, timedelta(hours=1), "Too many accounts were made from here. Try again later."
)
PASSWORD_RESET = Limit(
    "reset",
    5,
    timedelta(hours=1),
    "Too many password reset emails were asked for. Try again in an hour.",
)


class RateLimited(Exception):
    def __init__(self, limit: Limit, retry_after: timedelta):
        super().__init__(limit.message)
        self.limit = limit
        self.retry_after_seconds = max(1, int(retry_after.total_seconds()))


def throttle(limit: Limit, subject: str, *, now: datetime | None = None) -> None:
    """Count one action by `subject` (a user id, an address); raise RateLimited when it
    goes past the limit for the current window."""
    now = now or timezone.now()
    seconds = int(limit.per.total_seconds())
    window_start = datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=now.tzinfo)
    # A subject can come from a form (an email address): PostgreSQL's text holds no NUL.
    key = f"{limit.name}:{subject}".replace("\x00", "")[:200]
    table = ActionCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "  # noqa: S608
            "ON CONFLICT (key, window_start) DO UPDATE SET count = "
            f"{table}.count + 1 RETURNING count",
            [key, window_start],
        )
        (count,) = cursor.fetchone()
        if count == 1:
            # A new window: forget this key's old ones.
            ActionCount.objects.filter(key=key, window_start__lt=window_start).delete()
    if count > limit.count:
        raise RateLimited(limit, window_start + limit.per - now)


def client_address(request) -> str:
    """The client's address as the server saw it (REMOTE_ADDR; see the README on proxies)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def by_user(request) -> str:
    return f"user:{request.user.pk}"


def by_address(request) -> str:
    return f"ip:{client_address(request)}"


def limited(*limits: Limit, subject=by_user):
    """Throttle a view's POSTs: past a limit the answer is 429 with the limit's message
    (plain text for htmx, a page otherwise) and nothing is done."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                try:
                    for limit in limits:
                        throttle(limit, subject(request))
                except RateLimited as error:
                    return rate_limited_response(request, error)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def rate_limited_response(request, error: RateLimited) -> HttpResponse:
    """With htmx the page keeps its form; otherwise the 429 page gives back what was
    written (a comment, an answer, a question) in a form that posts it again, as it was."""
    if getattr(request, "htmx", False):
        response = HttpResponse(str(error), status=429, content_type="text/plain; charset=utf-8")
    else:
        writing = error.limit.gives_back_writing and "body" in request.POST
        context = {
            "message": str(error),
            "body": request.POST.get("body", "") if writing else None,
            "resend_fields": [
                (name, value)
                for name, values in request.POST.lists()
                if name not in ("body", "csrfmiddlewaretoken")
                for value in values
            ]
            if writing
            else [],
        }
        response = render(request, "429.html", context, status=429)
        add_never_cache_headers(response)  # it may hold what the reader wrote
    response["Retry-After"] = str(error.retry_after_seconds)
    return response


class LoginFailureHandler(AxesDatabaseHandler):
    """django-axes' database handler with two limits. Wrong passwords pause logging in to
    one account from the address they came from (AXES_LOCKOUT_PARAMETERS: the pair), so
    knowing a member's name is not enough to lock them out; and wrong passwords from one
    address, whatever the names, pause that address at LOGIN_ADDRESS_FAILURE_LIMIT, so it
    cannot try one password on every account. axes has one limit per configuration, so
    the address's count is added here, on the scale axes compares with its own limit."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)
        from_address = (
            AccessAttempt.objects.filter(
                ip_address=request.axes_ip_address,
                attempt_time__gte=get_cool_off_threshold(request),
            ).aggregate(total=Sum("failures_since_start"))["total"]
            or 0
        )
        if from_address >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures


def login_username(request, credentials: dict | None = None) -> str | None:
    """The name a login attempt gave, as django-axes records it (AXES_USERNAME_CALLABLE):
    cut to the longest a username can be, since a longer one names nobody and axes'
    column holds 255 characters (Django's login form does not check the length)."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if username is None:
        return None
    return username[: get_user_model()._meta.get_field("username").max_length]
