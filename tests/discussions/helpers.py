"""Plain helpers for the discussion tests: URLs and comment creation."""

import time

from django.test import Client

from discussions import services

ESSAY_URL = "/texts/anatomy-of-the-sect/"
HTMX = {"HX-Request": "true"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def passage_url(group, position: int = 1) -> str:
    return f"{ESSAY_URL}{position}/?group={group.slug}"


def create_url(group, position: int = 1) -> str:
    return f"/groups/{group.slug}/passages/{position}/comments/"


def updates_url(group, position: int = 1, after: int = 0, since: int | None = None) -> str:
    """The poll of a page that has the comments up to `after` as they stood at `since`
    (microseconds since 1970; by default now: nothing changed since)."""
    if since is None:
        since = int(time.time() * 1_000_000)
    base = f"/groups/{group.slug}/passages/{position}/comments/updates/"
    return f"{base}?after={after}&since={since}"


def comment_url(group, comment, action: str = "") -> str:
    pk = comment if isinstance(comment, int) else comment.pk
    base = f"/groups/{group.slug}/comments/{pk}/"
    return f"{base}{action}/" if action else base


def post_comment(author, group, passage, body="A comment.", **kwargs):
    return services.comment_create(author=author, group=group, passage=passage, body=body, **kwargs)
