"""Plain helpers for the discussion tests: URLs and comment creation."""

import time

from discussions import services
from tests.factories import logged_in  # noqa: F401 (for the discussion tests)

ESSAY_URL = "/texts/anatomy-of-the-sect/"
HTMX = {"HX-Request": "true"}


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


def reply_chain(group, passage, authors, length: int) -> list:
    """A thread of `length` comments, each replying to the one before (authors taking
    turns), stored in one INSERT: deeper than the services' one-by-one posting allows in
    a test's time."""
    from django.db import connection

    from discussions.markdown import render_markdown
    from discussions.models import Comment

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Comment._meta.db_table, length],
        )
        ids = [row[0] for row in cursor.fetchall()]
    comments = [
        Comment(
            pk=pk,
            group=group,
            passage=passage,
            author=authors[depth % len(authors)],
            parent_id=ids[depth - 1] if depth else None,
            root_id=ids[0] if depth else None,
            depth=depth,
            body=f"Depth {depth} words.",
            body_html=render_markdown(f"Depth {depth} words."),
        )
        for depth, pk in enumerate(ids)
    ]
    return Comment.objects.bulk_create(comments)
