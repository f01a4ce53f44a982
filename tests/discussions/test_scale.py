"""Discussions at scale: constant query counts, paging of threads and replies, and
concurrent replies (also racing a delete) through the real views."""

import functools
import re
import sys
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains

from discussions import selectors, services
from discussions.anchoring import quote_in_passage
from discussions.markdown import render_markdown
from discussions.models import Comment, HelpfulMark, Notification
from groups.models import Membership
from tests.discussions.helpers import (
    ESSAY_URL,
    HTMX,
    comment_url,
    create_url,
    logged_in,
    passage_url,
    post_comment,
    reply_chain,
    updates_url,
)
from tests.factories import at_once, make_user

QUOTES = [
    "three approaches",
    "individual militants",
    "political center",
    "the vanguard and the class",
]
THREADS = 10


def comment_ids(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<article class="comment[^"]*"\s+id="comment-(\d+)"', html)
    ]


@functools.cache
def _rendered(body: str) -> str:
    return render_markdown(body)


def _comment(group, passage, author, n: int, parent=None, quote: str = "") -> Comment:
    # Ten kinds of body, each rendered once: the pages are what is measured, not Markdown.
    body = (
        f"Comment **{n % 10}** on [the essay](https://example.com/{n % 10}), by @{author.username}."
    )
    fields = {}
    if quote:
        selector = quote_in_passage(passage.body, quote)
        fields = {
            "quote_exact": selector.exact,
            "quote_prefix": selector.prefix,
            "quote_suffix": selector.suffix,
            "quote_start": selector.start,
            "quote_end": selector.end,
        }
    return Comment(
        group=group,
        passage=passage,
        author=author,
        parent=parent,
        root_id=(parent.root_id or parent.pk) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        body_html=_rendered(body),
        **fields,
    )


def grow_discussion(group, passage, authors, *, to: int) -> None:
    """Add comments until the discussion has `to`: a third top-level with quotes, the rest
    replies and replies to replies, with helpful marks, a hidden comment and a tombstone."""
    existing = Comment.objects.filter(group=group, passage=passage).count()
    wanted = to - existing
    top_count = max(1, wanted // 3) if existing == 0 else wanted // 3
    tops = Comment.objects.bulk_create(
        [
            _comment(
                group,
                passage,
                authors[n % len(authors)],
                existing + n,
                quote=QUOTES[n % len(QUOTES)],
            )
            for n in range(top_count)
        ]
    )
    roots = list(Comment.objects.filter(group=group, passage=passage, parent=None).order_by("pk"))
    reply_count = (wanted - top_count) // 2
    replies = Comment.objects.bulk_create(
        [
            _comment(
                group,
                passage,
                authors[(n + 1) % len(authors)],
                existing + top_count + n,
                parent=roots[n % len(roots)],
            )
            for n in range(reply_count)
        ]
    )
    nested_count = wanted - top_count - reply_count
    Comment.objects.bulk_create(
        [
            _comment(
                group,
                passage,
                authors[(n + 2) % len(authors)],
                to + n,
                parent=replies[n % len(replies)],
            )
            for n in range(nested_count)
        ]
    )
    marks = [
        HelpfulMark(comment=comment, user=user)
        for comment in tops + replies
        for user in authors
        if user.pk != comment.author_id
    ]
    HelpfulMark.objects.bulk_create(marks[: len(marks) // 2], ignore_conflicts=True)
    if existing == 0 and len(tops) > 3:
        Comment.objects.filter(pk=tops[1].pk).update(
            hidden_at=tops[1].created_at, hidden_reason="Off topic."
        )
        Comment.objects.filter(pk=tops[2].pk).update(
            deleted_at=tops[2].created_at, body="", body_html=""
        )
    assert Comment.objects.filter(group=group, passage=passage).count() == to


@pytest.fixture
def authors(group, member, facilitator, other_member):
    extra = make_user("fourth")
    Membership.objects.create(group=group, user=extra, role=Membership.Role.MEMBER)
    return [member, facilitator, other_member, extra]


def count_queries(client, url, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **kwargs)
    assert response.status_code in (200, 204)
    return len(queries)


# Query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["member", "facilitator"])
def test_passage_page_query_count_is_the_same_for_1_10_and_1000_comments(
    django_assert_num_queries, group, passage, authors, viewer
):
    client = logged_in(authors[0] if viewer == "member" else authors[1])
    url = passage_url(group)
    grow_discussion(group, passage, authors, to=1)
    client.get(url)  # The first visit stores the chosen group in the session.
    at_one = count_queries(client, url)

    grow_discussion(group, passage, authors, to=10)
    with django_assert_num_queries(at_one):
        response = client.get(url)
    assert len(comment_ids(response.content.decode())) >= 4

    grow_discussion(group, passage, authors, to=1000)
    with django_assert_num_queries(at_one):
        response = client.get(url)
    assert "more comment threads" in response.content.decode()


def test_passage_page_of_a_discussion_nobody_wrote_in_skips_its_three_reads(
    group, passage, authors
):
    """No threads to list, no quotes to highlight, nothing to count: the discussion's
    version already says so."""
    client = logged_in(authors[0])
    url = passage_url(group)
    nothing_shown = '<p class="empty-thread" id="empty-thread">No comments yet.'
    assert nothing_shown in client.get(url).content.decode()
    empty = count_queries(client, url)

    # One comment, deleted: the page shows the same, after reading the discussion.
    grow_discussion(group, passage, authors, to=1)
    Comment.objects.update(deleted_at=F("created_at"), body="", body_html="")
    assert nothing_shown in client.get(url).content.decode()

    assert count_queries(client, url) == empty + 3


def test_comments_for_a_passage_give_each_comment_that_passage_not_a_copy(
    django_assert_num_queries, group, passage, authors
):
    grow_discussion(group, passage, authors, to=10)
    membership = Membership.objects.select_related("user").get(group=group, user=authors[0])

    with django_assert_num_queries(1):
        comments = list(selectors.comments_for(membership=membership, passage=passage))
        assert {id(comment.passage) for comment in comments} == {id(passage)}
    assert len(comments) == 10


def test_thread_more_query_count_is_the_same_for_small_and_large_discussions(
    django_assert_num_queries, group, passage, authors
):
    client = logged_in(authors[0])
    url = f"/groups/{group.slug}/passages/1/comments/more/?shown=40"
    grow_discussion(group, passage, authors, to=100)  # 33 threads: a second page
    at_hundred = count_queries(client, url, headers=HTMX)

    grow_discussion(group, passage, authors, to=1000)
    with django_assert_num_queries(at_hundred):
        client.get(url, headers=HTMX)


def test_comment_updates_query_count_is_the_same_for_1_and_1000_comments(
    django_assert_num_queries, group, passage, authors
):
    client = logged_in(authors[2])  # The first comment is someone else's: both answers are 200.
    grow_discussion(group, passage, authors, to=1)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(updates_url(group, after=0)).status_code == 200
    at_one = len(queries)

    grow_discussion(group, passage, authors, to=1000)
    after = Comment.objects.order_by("-pk").values_list("pk", flat=True)[20]
    with django_assert_num_queries(at_one):
        response = client.get(updates_url(group, after=after))
    assert response.status_code == 200


def test_comment_updates_with_only_the_readers_own_new_comment_cost_the_same_at_1_and_1000(
    django_assert_num_queries, group, passage, authors
):
    client = logged_in(authors[0])
    grow_discussion(group, passage, authors, to=1)
    mine = post_comment(authors[0], group, passage, "Mine.")
    with CaptureQueriesContext(connection) as queries:
        assert client.get(updates_url(group, after=mine.pk - 1)).status_code == 200
    at_one = len(queries)

    grow_discussion(group, passage, authors, to=1000)
    mine = post_comment(authors[0], group, passage, "Mine again.")
    with django_assert_num_queries(at_one) as queries:
        response = client.get(updates_url(group, after=mine.pk - 1))
    assert response.status_code == 200
    assert f"after={mine.pk}" in response.content.decode()
    # Only the comments after `after` (and the threads they are in) are read, not all 1,000.
    fetched = [q["sql"] for q in queries.captured_queries if "body_html" in q["sql"]]
    assert len(fetched) == 1
    assert f'"discussions_comment"."id" > {mine.pk - 1}' in fetched[0]


def test_comment_updates_unchanged_costs_one_query_after_the_membership_whatever_the_size(
    django_assert_num_queries, group, passage, authors
):
    client = logged_in(authors[0])
    grow_discussion(group, passage, authors, to=1000)
    latest = Comment.objects.latest("pk").pk
    url = updates_url(group, after=latest)
    etag = client.get(url)["ETag"]

    # Session, user, membership, then the passage with its discussion's version.
    with django_assert_num_queries(4):
        response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 304


def test_text_detail_query_count_is_the_same_for_1_and_1000_comments(
    django_assert_num_queries, group, passage, authors
):
    client = logged_in(authors[0])
    url = f"{ESSAY_URL}?group={group.slug}"
    grow_discussion(group, passage, authors, to=1)
    client.get(url)
    at_one = count_queries(client, url)

    grow_discussion(group, passage, authors, to=1000)
    with django_assert_num_queries(at_one):
        client.get(url)


def test_notification_list_query_count_is_the_same_for_1_and_50_notifications(
    django_assert_num_queries, group, passage, authors
):
    member, facilitator = authors[0], authors[1]
    client = logged_in(facilitator)
    parent = post_comment(facilitator, group, passage, "Top.")
    post_comment(member, group, passage, "Reply 0.", parent=parent)
    at_one = count_queries(client, "/notifications/")

    others = [authors[0], authors[2], authors[3]]
    for n in range(1, 50):
        post_comment(others[n % 3], group, passage, f"Reply {n}.", parent=parent)
    assert Notification.objects.filter(recipient=facilitator).count() == 50
    with django_assert_num_queries(at_one):
        client.get("/notifications/")


# Paging threads and replies ----------------------------------------------------------------


@pytest.fixture
def thousand_threads(group, passage, facilitator):
    return Comment.objects.bulk_create(
        [_comment(group, passage, facilitator, n) for n in range(1000)]
    )


def test_passage_page_1000_threads_shows_20_and_a_more_link(member_client, group, thousand_threads):
    html = member_client.get(passage_url(group)).content.decode()

    assert comment_ids(html) == [c.pk for c in thousand_threads[:20]]
    assert (
        '<p id="more-threads">\n'
        '    <a class="button secondary" '
        f'href="{ESSAY_URL}1/?group={group.slug}&amp;shown=40#threads"\n'
        f'       data-hx-get="/groups/{group.slug}/passages/1/comments/more/?shown=40"\n'
        '       data-hx-target="#more-threads" data-hx-swap="outerHTML">Show 980 more comment threads</a>\n'
        "  </p>"
    ) in html
    assert "(1000 comments)" in html


def test_thread_more_with_htmx_returns_the_next_20_threads(member_client, group, thousand_threads):
    response = member_client.get(
        f"/groups/{group.slug}/passages/1/comments/more/?shown=40", headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert comment_ids(html) == [c.pk for c in thousand_threads[20:40]]
    assert html.count('<div data-hx-swap-oob="beforeend:#threads">') == 20
    assert f'data-hx-get="/groups/{group.slug}/passages/1/comments/more/?shown=60"' in html
    assert "Show 960 more comment threads" in html


def test_thread_more_without_htmx_redirects_to_the_longer_page(
    member_client, group, thousand_threads
):
    response = member_client.get(f"/groups/{group.slug}/passages/1/comments/more/?shown=40")

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}&shown=40#threads"
    html = member_client.get(response["Location"]).content.decode()
    assert comment_ids(html) == [c.pk for c in thousand_threads[:40]]
    assert "Show 960 more comment threads" in html


def test_thread_more_last_page_has_no_more_link(member_client, group, thousand_threads):
    response = member_client.get(
        f"/groups/{group.slug}/passages/1/comments/more/?shown=1000", headers=HTMX
    )

    html = response.content.decode()
    assert comment_ids(html) == [c.pk for c in thousand_threads[980:]]
    assert "more comment thread" not in html


def test_passage_page_pinned_thread_is_first_among_1000(
    member_client, facilitator, group, thousand_threads
):
    services.comment_pin(moderator=facilitator, comment=thousand_threads[999], pinned=True)

    html = member_client.get(passage_url(group)).content.decode()

    assert comment_ids(html)[:2] == [thousand_threads[999].pk, thousand_threads[0].pk]


@pytest.fixture
def thirty_replies(group, passage, facilitator, member):
    parent = post_comment(facilitator, group, passage, "Popular.")
    replies = Comment.objects.bulk_create(
        [_comment(group, passage, member, n, parent=parent) for n in range(30)]
    )
    return parent, replies


def test_passage_page_30_replies_shows_5_and_a_more_link(other_client, group, thirty_replies):
    parent, replies = thirty_replies

    html = other_client.get(passage_url(group)).content.decode()

    assert comment_ids(html) == [parent.pk] + [r.pk for r in replies[:5]]
    assert (
        f'<p class="more-replies"><a href="{comment_url(group, parent)}"\n'
        f'           data-hx-get="{comment_url(group, parent)}?part=replies&amp;after={replies[4].pk}" '
        'data-hx-target="closest .more-replies" '
        'data-hx-swap="outerHTML">Show 25 more replies</a></p>'
    ) in html


def test_comment_thread_more_replies_with_htmx_returns_the_other_25(
    other_client, group, thirty_replies
):
    parent, replies = thirty_replies

    response = other_client.get(
        comment_url(group, parent), {"part": "replies", "after": replies[4].pk}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert comment_ids(html) == [r.pk for r in replies[5:]]
    assert "more repl" not in html


def test_comment_thread_page_shows_all_30_replies(other_client, group, thirty_replies):
    parent, replies = thirty_replies

    html = other_client.get(comment_url(group, parent)).content.decode()

    assert comment_ids(html) == [parent.pk] + [r.pk for r in replies]
    assert "more repl" not in html


class _ArticleNesting(HTMLParser):
    """Each comment's article, in order, with the comment whose article holds it (None:
    no comment's; other articles, such as the passage, count as none)."""

    def __init__(self):
        super().__init__()
        self.open: list[int | None] = []
        self.inside: list[tuple[int, int | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "article":
            found = dict(attrs).get("id", "").removeprefix("comment-")
            pk = int(found) if found.isdigit() else None
            if pk is not None:
                self.inside.append((pk, self.open[-1] if self.open else None))
            self.open.append(pk)

    def handle_endtag(self, tag):
        if tag == "article":
            self.open.pop()


def article_nesting(html: str) -> list[tuple[int, int | None]]:
    parser = _ArticleNesting()
    parser.feed(html)
    assert parser.open == []  # every article closed
    return parser.inside


# Deeper than Python's recursion limit: nothing between the database and the page may
# recurse once per level of replies.
DEEPER_THAN_RECURSION = sys.getrecursionlimit() + 100


def test_comment_thread_pages_of_any_depth_show_every_reply_inside_its_parent(
    other_client, group, passage, member, facilitator
):
    chain = reply_chain(group, passage, [member, facilitator], DEEPER_THAN_RECURSION)
    levels = selectors.THREAD_PAGE_LEVELS

    # Each page nests THREAD_PAGE_LEVELS replies below its comment (browsers nest
    # elements 512 deep at most), then continues on the page of the last one shown.
    shown, page_of = [], chain[0]
    while True:
        response = other_client.get(comment_url(group, page_of))
        assert response.status_code == 200
        html = response.content.decode()
        nesting = article_nesting(html)
        on_page = chain[page_of.depth : page_of.depth + levels + 1]
        assert nesting == [(on_page[0].pk, None)] + [
            (reply.pk, parent.pk) for parent, reply in zip(on_page, on_page[1:], strict=False)
        ]
        shown += [pk for pk, _parent in nesting]
        below = len(chain) - 1 - on_page[-1].depth
        if not below:
            assert "Continue this thread" not in html
            break
        assert html.count("Continue this thread") == 1
        assert (
            f'<a href="{comment_url(group, on_page[-1])}">Continue this thread '
            f"({below} more repl{'y' if below == 1 else 'ies'})</a>"
        ) in html
        page_of = on_page[-1]
    # Every reply once, and the last page's top again as the next page's comment.
    assert list(dict.fromkeys(shown)) == [c.pk for c in chain]


def test_replies_of_a_thread_of_any_depth_continue_on_its_page_with_the_count_below(
    other_client, group, passage, member, facilitator
):
    chain = reply_chain(group, passage, [member, facilitator], DEEPER_THAN_RECURSION)

    html = other_client.get(
        comment_url(group, chain[6]), {"part": "replies", "after": 0}, headers=HTMX
    ).content.decode()

    assert comment_ids(html) == [chain[7].pk, chain[8].pk]
    below = DEEPER_THAN_RECURSION - 9
    assert f"Continue this thread ({below} more replies)" in html


def test_passage_page_of_a_thread_of_any_depth_shows_its_first_replies(
    other_client, group, passage, member, facilitator
):
    chain = reply_chain(group, passage, [member, facilitator], DEEPER_THAN_RECURSION)

    html = other_client.get(passage_url(group)).content.decode()

    shown = chain[: 1 + selectors.REPLIES_PER_THREAD]
    assert article_nesting(html) == [(chain[0].pk, None)] + [
        (reply.pk, parent.pk) for parent, reply in zip(shown, shown[1:], strict=False)
    ]
    assert "Show 1 more reply" in html


def test_reply_below_the_deepest_depth_stored_is_refused_with_a_message(
    member_client, group, passage, member, facilitator
):
    top, deepest = reply_chain(group, passage, [member, facilitator], 2)
    Comment.objects.filter(pk=deepest.pk).update(depth=Comment.DEEPEST)

    html = member_client.get(comment_url(group, top)).content.decode()
    response = member_client.post(create_url(group), {"body": "Deeper?", "parent": deepest.pk})

    # No Reply under the deepest comment; the one above still takes replies.
    assert f'href="{comment_url(group, top, "reply")}"' in html
    assert f'href="{comment_url(group, deepest, "reply")}"' not in html

    assertContains(
        response,
        "This thread is nested as deeply as it can be: reply to a comment above.",
        status_code=422,
    )
    assert Comment.objects.filter(group=group).count() == 2


# Concurrency -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_comment_reply_ten_at_once_all_land_under_the_parent(
    group, passage, facilitator, mailoutbox
):
    parent = post_comment(facilitator, group, passage, "Answer me, all of you.")
    repliers = [make_user(f"replier{n}") for n in range(THREADS)]
    Membership.objects.bulk_create(
        [Membership(group=group, user=user, role=Membership.Role.MEMBER) for user in repliers]
    )
    clients = [logged_in(user) for user in repliers]

    def reply(client, n):
        return lambda: (
            client.post(create_url(group), {"body": f"Reply {n}.", "parent": parent.pk}).status_code
        )

    statuses = at_once(*[reply(client, n) for n, client in enumerate(clients)])

    assert statuses == [302] * THREADS
    replies = Comment.objects.filter(parent=parent)
    assert sorted(replies.values_list("body", flat=True)) == sorted(
        f"Reply {n}." for n in range(THREADS)
    )
    assert sorted(replies.values_list("author__username", flat=True)) == sorted(
        u.username for u in repliers
    )
    assert Notification.objects.filter(recipient=facilitator, kind="reply").count() == THREADS
    assert len(mailoutbox) == THREADS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("existing_replies", [0, 1], ids=["leaf", "with-a-reply"])
def test_comment_delete_racing_replies_leaves_no_orphans(
    group, passage, member, facilitator, existing_replies
):
    comment = post_comment(member, group, passage, "Soon gone.")
    for _ in range(existing_replies):
        post_comment(facilitator, group, passage, "Already here.", parent=comment)
    repliers = [make_user(f"racer{n}") for n in range(THREADS - 1)]
    Membership.objects.bulk_create(
        [Membership(group=group, user=user, role=Membership.Role.MEMBER) for user in repliers]
    )
    author_client = logged_in(member)
    clients = [logged_in(user) for user in repliers]

    def delete():
        return author_client.post(comment_url(group, comment, "delete")).status_code

    def reply(client, n):
        return lambda: (
            client.post(create_url(group), {"body": f"Race {n}.", "parent": comment.pk}).status_code
        )

    statuses = at_once(delete, *[reply(client, n) for n, client in enumerate(clients)])

    assert statuses[0] == 302
    assert set(statuses[1:]) <= {302, 404, 422}
    landed = statuses[1:].count(302)
    survivor = Comment.objects.filter(pk=comment.pk).first()
    if survivor is None:
        # Deleted outright: no reply may point at it, and none that was refused was kept.
        assert existing_replies == 0
        assert Comment.objects.filter(parent_id=comment.pk).count() == 0
        assert Comment.objects.filter(body__startswith="Race ").count() == 0
        assert landed == 0
    else:
        # A tombstone keeps every reply that was accepted.
        assert survivor.deleted_at is not None
        assert (survivor.body, survivor.body_html) == ("", "")
        assert Comment.objects.filter(parent=survivor, body__startswith="Race ").count() == landed
        assert Comment.objects.filter(parent=survivor).count() == landed + existing_replies
    assert (
        Comment.objects.exclude(parent=None).exclude(parent__in=Comment.objects.all()).count() == 0
    )


def test_comment_updates_nothing_new_answers_204_from_the_version_alone(
    django_assert_num_queries, group, passage, authors
):
    """Without If-None-Match too, a poll with nothing new never builds the thread."""
    client = logged_in(authors[0])
    grow_discussion(group, passage, authors, to=1000)
    latest = Comment.objects.latest("pk").pk

    # Session, user, membership, then the passage with its discussion's version.
    with django_assert_num_queries(4):
        response = client.get(updates_url(group, after=latest))
    assert response.status_code == 204


# Work that does not grow with the discussion (issue 13) ------------------------------------


def rendered_comment_count(html: str) -> int:
    return len(re.findall(r'<article class="comment[^"]*"\s+id="comment-\d+"', html))


def threads_with_replies(group, passage, starter, replier, *, threads: int, replies: int):
    """`threads` threads started by `starter`, each with `replies` replies by `replier`."""
    for n in range(threads):
        parent = post_comment(starter, group, passage, f"Thread {n}.")
        Comment.objects.bulk_create(
            [_comment(group, passage, replier, 1000 * n + r, parent=parent) for r in range(replies)]
        )


def test_passage_page_renders_a_bounded_number_of_comments_however_big_the_threads(
    other_client, group, passage, facilitator, member
):
    # Twenty threads of fifty replies each, nested: a thousand comments in all.
    threads_with_replies(group, passage, facilitator, member, threads=20, replies=50)

    html = other_client.get(passage_url(group)).content.decode()

    # Each thread with as many of its first replies in time as the page's budget
    # allows for all twenty, the rest behind "show more replies".
    per_thread = (selectors.COMMENTS_PER_PAGE - 20) // 20
    assert rendered_comment_count(html) == 20 * (1 + per_thread) == selectors.COMMENTS_PER_PAGE
    assert html.count(f"Show {50 - per_thread} more replies") == 20


def test_passage_page_showing_more_threads_keeps_each_page_s_budget(
    other_client, group, passage, facilitator, member
):
    # Forty threads of three replies: 160 comments; two pages of threads at once (the
    # page without JavaScript after "show more threads") hold two pages' worth.
    threads_with_replies(group, passage, facilitator, member, threads=40, replies=3)

    html = other_client.get(f"{passage_url(group)}&shown=40").content.decode()

    per_thread = (2 * selectors.COMMENTS_PER_PAGE - 40) // 40
    assert per_thread == 2
    assert rendered_comment_count(html) == 40 * (1 + per_thread)
    assert html.count("Show 1 more reply") == 40


def test_passage_page_shows_a_quiet_discussion_s_threads_whole(
    other_client, group, passage, facilitator, member
):
    # Ten threads of four replies each: under the page's budget, nothing is held back.
    for n in range(10):
        parent = post_comment(facilitator, group, passage, f"Thread {n}.")
        for r in range(4):
            parent = post_comment(member, group, passage, f"Reply {r}.", parent=parent)

    html = other_client.get(passage_url(group)).content.decode()

    assert rendered_comment_count(html) == 50
    assert "more repl" not in html


def test_comment_helpful_with_htmx_reads_the_comment_alone_at_1_and_1000_in_its_thread(
    other_client, group, passage, facilitator, member
):
    def toggle(comment, on):
        with CaptureQueriesContext(connection) as queries:
            response = other_client.post(
                comment_url(group, comment, "helpful"), {"on": "1" if on else "0"}, headers=HTMX
            )
        assert response.status_code == 200
        return response, queries

    lone = post_comment(facilitator, group, passage, "Alone.")
    toggle(lone, True)
    _, alone = toggle(lone, False)
    busy = post_comment(facilitator, group, passage, "Busy.")
    Comment.objects.bulk_create(
        [_comment(group, passage, member, n, parent=busy) for n in range(1000)]
    )
    toggle(busy, True)

    response, queries = toggle(busy, False)

    assert len(queries) == len(alone) > 0
    assert rendered_comment_count(response.content.decode()) == 0  # no replies re-sent
    assert f'id="comment-self-{busy.pk}"' in response.content.decode()
    # The one comment's row, not its thread's thousand.
    fetched = [q["sql"] for q in queries.captured_queries if "body_html" in q["sql"]]
    assert fetched
    assert all(f'"discussions_comment"."id" = {busy.pk}' in sql for sql in fetched)
