"""A large discussion made fast, for the search scale test and `make bench`."""

from django.db import connection

from discussions.markdown import render_markdown

TOPICS = ("discipline", "vanguard", "party", "class", "program", "meeting", "leaflet")
RARE_WORD = "samizdat"  # in one comment of every thousand
RARE_EVERY = 1_000


def insert_comments(*, group, passage, author, count: int) -> None:
    """`count` comments on the passage in one INSERT ... SELECT generate_series, then
    ANALYZE so that the planner knows the table as it now is."""
    body_html = render_markdown("A generated comment.")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO discussions_comment (
                group_id, passage_id, author_id, body, body_html, quote_exact, quote_prefix,
                quote_suffix, quote_original, hidden_reason, created_at
            )
            SELECT %s, %s, %s,
                   'Comment ' || i || ' on the ' || (%s::text[])[1 + i %% %s]
                       || CASE WHEN i %% %s = 0 THEN ' and ' || %s ELSE '' END,
                   %s, '', '', '', '', '', now() - make_interval(secs => i)
            FROM generate_series(1, %s) AS i
            """,
            [
                group.pk,
                passage.pk,
                author.pk,
                list(TOPICS),
                len(TOPICS),
                RARE_EVERY,
                RARE_WORD,
                body_html,
                count,
            ],
        )
        cursor.execute("ANALYZE discussions_comment")
