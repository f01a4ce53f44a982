"""Timings of the pages that grow with a discussion: `make bench` prints them.

Not part of `make test` (marker `bench`): they measure, they do not judge, except
that the query count must stay flat.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from discussions.markdown import render_markdown
from discussions.models import Comment
from tests.factories import make_group, make_user

pytestmark = pytest.mark.bench

SIZES = (1, 100, 1_000, 3_000)
RUNS = 5


def grow(group, passage, authors, total):
    html = render_markdown("A *measured* comment with a [link](https://example.org).")
    have = Comment.objects.filter(group=group, passage=passage).count()
    roots = list(Comment.objects.filter(group=group, passage=passage, parent=None)[:50])
    new = []
    for n in range(have, total):
        parent = roots[n % len(roots)] if roots and n % 3 else None
        new.append(
            Comment(
                group=group,
                passage=passage,
                author=authors[n % len(authors)],
                parent=parent,
                root_id=(parent.root_id or parent.pk) if parent else None,
                body="A *measured* comment",
                body_html=html,
                quote_exact="the levers" if parent is None and n % 10 == 0 else "",
                quote_start=None,
            )
        )
    Comment.objects.bulk_create(new)


def measure(client, url):
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
        assert response.status_code in (200, 204)
    return statistics.median(timings), len(queries), len(response.content)


def test_bench_passage_page_and_poll_by_discussion_size(client, essay, capsys):
    authors = [make_user(f"bench{n}") for n in range(5)]
    group = make_group(essay, facilitator=authors[0], members=authors[1:])
    passage = essay.passages.get(position=3)
    client.force_login(authors[0])
    page_url = f"/texts/{essay.slug}/3/?group={group.slug}"
    rows = []
    for size in SIZES:
        grow(group, passage, authors, size)
        latest = Comment.objects.latest("pk").pk
        page = measure(client, page_url)
        poll = measure(client, f"/groups/{group.slug}/passages/3/comments/updates/?after={latest}")
        rows.append((size, page, poll))
    with capsys.disabled():
        print(
            "\ncomments | passage page: median ms, queries, KiB | poll (nothing new): median ms, queries"
        )
        for size, (p_time, p_queries, p_bytes), (q_time, q_queries, _) in rows:
            print(
                f"{size:>8} | {p_time * 1000:>8.1f} ms {p_queries:>3} q {p_bytes // 1024:>5} KiB"
                f" | {q_time * 1000:>6.1f} ms {q_queries:>2} q"
            )
    assert len({page[1] for _, page, _ in rows}) == 1, "passage page queries grew with the thread"


def measure_post(client, url, data):
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.post(url, data, headers={"HX-Request": "true"})
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return statistics.median(timings), len(queries)


def test_bench_single_comment_actions_by_discussion_size(client, essay, capsys):
    """Helpful toggle and edit (htmx) on one comment while the passage's discussion grows:
    they read one thread, so their cost should stay flat."""
    authors = [make_user(f"actor{n}") for n in range(5)]
    group = make_group(essay, facilitator=authors[0], members=authors[1:])
    passage = essay.passages.get(position=4)
    client.force_login(authors[0])
    rows = []
    for size in (1, 1_000, 5_000):
        grow(group, passage, authors, size)
        # A fresh one-comment thread each time: the passage grows, the thread does not.
        target = Comment.objects.create(
            group=group, passage=passage, author=authors[1], body="Target", body_html="<p>T</p>"
        )
        helpful_url = f"/groups/{group.slug}/comments/{target.pk}/helpful/"
        on = measure_post(client, helpful_url, {"on": "1"})
        off = measure_post(client, helpful_url, {"on": "0"})
        rows.append((size, on, off))
    with capsys.disabled():
        print("\ncomments | helpful on (htmx): median ms, queries | helpful off")
        for size, (on_time, on_queries), (off_time, off_queries) in rows:
            print(
                f"{size:>8} | {on_time * 1000:>8.1f} ms {on_queries:>3} q"
                f" | {off_time * 1000:>8.1f} ms {off_queries:>3} q"
            )
    assert len({on[1] for _, on, _ in rows}) == 1, "helpful toggle queries grew with the passage"
