"""Search timings as the discussion grows: `make bench` prints them.

Not part of `make test` (marker `bench`): they measure, they do not judge, except
that the query count must stay flat.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from search.selectors import text_query, visible_comments
from tests.search.corpus import RARE_WORD, insert_comments

pytestmark = pytest.mark.bench

SIZES = (1_000, 100_000)
QUERIES = (RARE_WORD, "discipline", "vanguard par", "miniturize")
RUNS = 5


def measure(client, query):
    timings = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get("/search/", {"q": query}, headers={"HX-Request": "true"})
            timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return (
        statistics.median(timings),
        len(queries),
        response.context["results"].page.paginator.count,
    )


def test_bench_search_by_discussion_size(client, essay, group, member, capsys):
    passage = essay.passages.get(position=3)
    client.force_login(member)
    rows, have = [], 0
    for size in SIZES:
        insert_comments(group=group, passage=passage, author=member, count=size - have)
        have = size
        rows.extend((size, query, *measure(client, query)) for query in QUERIES)
    memberships = list(member.memberships.select_related("group"))
    plan = (
        visible_comments(memberships).filter(search_vector=text_query(RARE_WORD)).values("pk")
    ).explain()
    with capsys.disabled():
        print("\ncomments | search (htmx results, as a member): query | median ms, queries, found")
        for size, query, seconds, count, found in rows:
            print(f"{size:>8} | {query:<14} | {seconds * 1000:>7.1f} ms {count:>3} q {found:>6}")
        print(f"EXPLAIN of the comment search for {RARE_WORD!r}:\n{plan}")
    assert len({count for _, _, _, count, _ in rows}) <= 2, "search queries grew"
