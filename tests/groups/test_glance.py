"""The group at a glance: the facilitator's progress grid, the activity chart, the
contents page's discussion bars and a reader's own page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from discussions import services as discussions
from discussions.models import Comment
from groups.models import Meeting, Membership, StudyGroup
from groups.services import notebook_for
from pages import glance
from reading import services as reading
from reading.models import ReadingProgress
from tests.factories import logged_in, make_group, make_text, make_user

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


def at(when: datetime, *objects):
    """Move progress rows' read_at or comments' created_at to `when`."""
    for obj in objects:
        if isinstance(obj, ReadingProgress):
            ReadingProgress.objects.filter(pk=obj.pk).update(read_at=when)
        else:
            Comment.objects.filter(pk=obj.pk).update(created_at=when)


def read(user, text, position) -> ReadingProgress:
    reading.progress_set(reader=user, passage=text.passages.get(position=position), read=True)
    return ReadingProgress.objects.get(reader=user, passage__text=text, passage__position=position)


@pytest.fixture
def small(db):
    """Four passages; ann read 1 and 2, commented on 2, answered the question on 2–3;
    bob read 1 and replied on 1; fac (the facilitator) did nothing but ask."""
    text = make_text(passages=4)
    fac, ann, bob = make_user("fac"), make_user("ann"), make_user("bob")
    group = make_group(text, facilitator=fac, name="Small circle", members=[ann, bob])
    StudyGroup.objects.filter(pk=group.pk).update(created_at=datetime(2026, 11, 5, tzinfo=UTC))
    group.refresh_from_db()
    p1, p2 = text.passages.get(position=1), text.passages.get(position=2)
    at(datetime(2026, 11, 3, 9, tzinfo=UTC), read(ann, text, 1))
    at(datetime(2026, 11, 10, 9, tzinfo=UTC), read(ann, text, 2), read(bob, text, 1))
    outsider = make_user("zed")
    read(outsider, text, 3)  # not a member: counted nowhere
    fac_comment = discussions.comment_create(author=fac, group=group, passage=p1, body="Start")
    reply = discussions.comment_create(
        author=bob, group=group, passage=p1, body="Yes", parent=fac_comment
    )
    comment = discussions.comment_create(author=ann, group=group, passage=p2, body="Hm")
    gone = discussions.comment_create(author=bob, group=group, passage=p2, body="Oops")
    discussions.comment_delete(user=bob, comment=gone)
    question = discussions.question_create(
        facilitator=fac, group=group, body="Why?", first_position=2, last_position=3
    )
    answer = discussions.answer_save(author=ann, question=question, body="Because.")
    at(datetime(2026, 11, 11, 9, tzinfo=UTC), comment)
    at(datetime(2026, 11, 24, 9, tzinfo=UTC), reply, answer, gone)
    at(datetime(2026, 11, 2, 9, tzinfo=UTC), fac_comment)
    return {"text": text, "group": group, "fac": fac, "ann": ann, "bob": bob}


def membership(group, user) -> Membership:
    return Membership.objects.select_related("group__text", "user").get(group=group, user=user)


def marks(row) -> list[str]:
    return [
        ("R" if c.read else "") + ("C" if c.commented else "") + ("A" if c.answered else "")
        for c in row.cells
    ]


# The grid -----------------------------------------------------------------------------


def test_grid_matches_hand_computed_cells(small):
    grid = glance.progress_grid(membership=membership(small["group"], small["fac"]), now=NOW)

    assert grid.positions == [1, 2, 3, 4]
    assert [(row.username, row.read, marks(row)) for row in grid.rows] == [
        ("ann", 2, ["R", "RCA", "A", ""]),
        ("bob", 1, ["RC", "", "", ""]),
        ("fac", 0, ["C", "", "", ""]),
    ]
    assert grid.read_per_passage == [2, 1, 0, 0]
    assert grid.rows[0].cells[1].label == "read, commented, answered a question"
    assert grid.rows[2].cells[3].label == "not read, no comment, no answer"


def test_grid_sorts_by_most_and_least_read(small):
    member = membership(small["group"], small["fac"])
    most = glance.progress_grid(membership=member, sort="most", now=NOW)
    least = glance.progress_grid(membership=member, sort="least", now=NOW)

    assert [r.username for r in most.rows] == ["ann", "bob", "fac"]
    assert [r.username for r in least.rows] == ["fac", "bob", "ann"]


def test_grid_filters_to_the_next_meetings_passages(small):
    Meeting.objects.create(
        group=small["group"], starts_at=NOW + timedelta(days=2), first_position=2, last_position=3
    )
    grid = glance.progress_grid(
        membership=membership(small["group"], small["fac"]), scope="meeting", now=NOW
    )

    assert (grid.scope, grid.positions) == ("meeting", [2, 3])
    assert [(row.username, marks(row)) for row in grid.rows] == [
        ("ann", ["RCA", "A"]),
        ("bob", ["", ""]),
        ("fac", ["", ""]),
    ]


def test_grid_without_a_meeting_shows_all_passages(small):
    grid = glance.progress_grid(
        membership=membership(small["group"], small["fac"]), scope="meeting", now=NOW
    )

    assert (grid.scope, grid.positions) == ("all", [1, 2, 3, 4])


def test_grid_page_shows_cells_in_words_and_a_legend(small):
    response = logged_in(small["fac"]).get(reverse("group_progress", args=[small["group"].slug]))

    assertContains(response, '<th scope="row">ann</th>', html=False)
    assertContains(
        response, '<span class="visually-hidden">read, commented, answered a question</span>'
    )
    assertContains(response, 'aria-label="Legend"')
    assertContains(response, '<title id="chart-title">')
    assertNotContains(response, "style=")


def test_grid_is_for_facilitators(small):
    url = reverse("group_progress", args=[small["group"].slug])

    assert logged_in(small["ann"]).get(url).status_code == 403
    assert logged_in(make_user("stranger")).get(url).status_code == 404


def test_group_page_links_facilitators_to_the_grid(small):
    url = reverse("group_progress", args=[small["group"].slug])
    group_url = small["group"].get_absolute_url()

    assertContains(logged_in(small["fac"]).get(group_url), url)
    assertNotContains(logged_in(small["ann"]).get(group_url), url)


@pytest.mark.parametrize(
    "query",
    [
        {"sort": "\x00"},
        {"sort": "name\x00"},
        {"passages": "junk"},
        {"passages": "meeting", "sort": "least"},
        {"page": "-1"},
        {"page": "0"},
        {"page": "99999999999999999999999"},
        {"page": "abc"},
        {"page": "\x00"},
        {"sort": ["most", "least"], "passages": ["all", "meeting"]},
    ],
)
def test_hostile_grid_parameters_never_fail(small, query):
    response = logged_in(small["fac"]).get(
        reverse("group_progress", args=[small["group"].slug]), query
    )

    assert response.status_code == 200


def test_grid_of_a_one_member_group_and_a_notebook(db):
    text = make_text(passages=2)
    fac = make_user("alone")
    group = make_group(text, facilitator=fac)
    notebook = notebook_for(reader=fac, text=text)
    read(fac, text, 2)

    for each in (group, notebook):
        grid = glance.progress_grid(membership=membership(each, fac), now=timezone.now())
        assert [(row.username, marks(row)) for row in grid.rows] == [("alone", ["", "R"])]
        response = logged_in(fac).get(reverse("group_progress", args=[each.slug]))
        assert response.status_code == 200


def test_grid_pages_a_long_text(db):
    text = make_text(passages=45)
    fac = make_user("long")
    group = make_group(text, facilitator=fac)

    pages = [
        glance.progress_grid(membership=membership(group, fac), page=n).positions for n in (1, 3, 9)
    ]

    assert [(p[0], p[-1]) for p in pages] == [(1, 20), (41, 45), (41, 45)]


# The chart ----------------------------------------------------------------------------


def test_chart_matches_hand_computed_weeks(small):
    chart = glance.activity_chart(group=small["group"], now=NOW)

    assert [(str(w.week), w.passages_read, w.comments) for w in chart.weeks] == [
        ("2026-11-02", 1, 1),
        ("2026-11-09", 2, 1),
        ("2026-11-16", 0, 0),
        ("2026-11-23", 0, 2),
    ]
    assert chart.scale_max == 2
    assert [t.value for t in chart.ticks] == [0, 1, 2]
    plot = glance.PLOT_BOTTOM - glance.PLOT_TOP
    assert [b.height for b in chart.read_bars] == [plot / 2, plot, 0, 0]
    assert [b.height for b in chart.comment_bars] == [plot / 2, plot / 2, 0, plot]
    assert all(b.y + b.height == glance.PLOT_BOTTOM for b in chart.read_bars)


def test_chart_of_an_empty_group(db):
    group = make_group(make_text(passages=2))

    chart = glance.activity_chart(group=group)

    assert [(w.passages_read, w.comments) for w in chart.weeks] == [(0, 0)]
    assert (chart.is_empty, chart.scale_max) == (True, 1)
    assert [b.height for b in chart.read_bars + chart.comment_bars] == [0, 0]


def test_chart_covers_at_most_26_weeks(small):
    StudyGroup.objects.filter(pk=small["group"].pk).update(created_at=NOW - timedelta(days=900))
    small["group"].refresh_from_db()

    chart = glance.activity_chart(group=small["group"], now=NOW)

    assert len(chart.weeks) == 26
    assert str(chart.weeks[-1].week) == "2026-11-23"
    assert len(chart.x_labels) <= glance.MAX_X_LABELS


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (11, 20), (250, 500)]
)
def test_nice_ceiling(value, ceiling):
    assert glance.nice_ceiling(value) == ceiling


# Query counts ----------------------------------------------------------------------------


def test_grid_and_chart_queries_do_not_grow_with_members(db):
    text = make_text(passages=5)
    fac = make_user("counting")
    group = make_group(text, facilitator=fac)
    Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=2), first_position=2, last_position=3
    )
    question = discussions.question_create(
        facilitator=fac, group=group, body="Why?", first_position=2, last_position=3
    )
    passages = list(text.passages.order_by("position"))
    client = logged_in(fac)
    url = reverse("group_progress", args=[group.slug])
    counts, sizes = [], (1, 10, 200)
    for size in sizes:
        users = [make_user(f"g{size}-{n}") for n in range(size)]
        Membership.objects.bulk_create(
            Membership(group=group, user=user, role=Membership.Role.MEMBER) for user in users
        )
        ReadingProgress.objects.bulk_create(
            ReadingProgress(reader=user, passage=passage)
            for user in users
            for passage in passages[:3]
        )
        Comment.objects.bulk_create(
            Comment(group=group, passage=passages[1], author=user, body="x", body_html="<p>x</p>")
            for user in users
        )
        Comment.objects.bulk_create(
            Comment(
                group=group,
                passage=passages[1],
                author=user,
                question=question,
                body="a",
                body_html="<p>a</p>",
            )
            for user in users
        )
        for query in ({}, {"passages": "meeting", "sort": "most"}):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, query)
            assert response.status_code == 200
            counts.append(len(queries))
    assert len(set(counts[0::2])) == 1 and len(set(counts[1::2])) == 1, counts
    grid = response.context["grid"]
    assert len(grid.rows) == 1 + sum(sizes)
    assert grid.rows[0].read == 2 and marks(grid.rows[0]) == ["RCA", "RA"]


# The contents page ------------------------------------------------------------------------


def test_contents_shows_each_passages_discussion_in_the_group(small):
    response = logged_in(small["ann"]).get(
        small["text"].get_absolute_url(), {"group": small["group"].slug}
    )
    activity = response.context["activity"]

    assert {p: (a.comments, a.open_questions, a.bar_width) for p, a in activity.items()} == {
        1: (2, 0, 60),
        2: (1, 1, 30),
        3: (0, 1, 0),
        4: (0, 0, 0),
    }
    assertContains(response, "2 comments")
    assertContains(response, "1 comment, 1 open question")


def test_contents_activity_leaves_out_hidden_comments_for_members(small):
    bobs_reply = Comment.objects.get(author=small["bob"], parent__isnull=False)
    discussions.comment_hide(moderator=small["fac"], comment=bobs_reply, reason="Off topic")

    def counts(user):
        response = logged_in(user).get(
            small["text"].get_absolute_url(), {"group": small["group"].slug}
        )
        return response.context["activity"][1].comments

    assert (counts(small["ann"]), counts(small["bob"]), counts(small["fac"])) == (1, 2, 2)


def test_contents_activity_costs_one_query(small, monkeypatch):
    client = logged_in(small["ann"])
    url = small["text"].get_absolute_url()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"group": small["group"].slug}).status_code == 200
        return len(queries)

    with_activity = count()
    monkeypatch.setattr(glance, "contents_activity", lambda **kwargs: {})
    assert with_activity - count() == 1


# A reader's own page -------------------------------------------------------------------------


def test_my_page_lists_progress_comments_replies_questions_and_meetings(small):
    meeting = Meeting.objects.create(
        group=small["group"],
        starts_at=timezone.now() + timedelta(days=2),
        first_position=1,
        last_position=2,
    )
    discussions.question_create(
        facilitator=small["fac"],
        group=small["group"],
        body="Open one?",
        first_position=1,
        last_position=1,
    )
    fac_comment = Comment.objects.get(author=small["fac"])
    page = glance.my_page(user=small["bob"])
    client = logged_in(small["bob"])
    response = client.get(reverse("my_page"))

    assert [(row.text.pk, row.progress.read) for row in page.texts] == [(small["text"].pk, 1)]
    assert [(row.comment.body, [r.body for r in row.replies]) for row in page.comments] == [
        ("Yes", [])
    ]
    assert sorted(q.body for q in page.open_questions) == ["Open one?", "Why?"]
    assert page.meetings == [meeting]
    assertContains(response, reverse("meeting_detail", args=[small["group"].slug, meeting.pk]))
    fac_page = glance.my_page(user=small["fac"])
    assert [(row.comment.pk, [r.body for r in row.replies]) for row in fac_page.comments] == [
        (fac_comment.pk, ["Yes"])
    ]


def test_my_page_leaves_out_hidden_replies(small):
    ann_comment = Comment.objects.get(author=small["ann"], question__isnull=True)
    reply = discussions.comment_create(
        author=small["bob"],
        group=small["group"],
        passage=ann_comment.passage,
        body="Rude",
        parent=ann_comment,
    )
    kind = discussions.comment_create(
        author=small["fac"],
        group=small["group"],
        passage=ann_comment.passage,
        body="Kind",
        parent=ann_comment,
    )
    discussions.comment_hide(moderator=small["fac"], comment=reply, reason="Rude")

    rows = {
        row.comment.pk: [r.pk for r in row.replies]
        for row in glance.my_page(user=small["ann"]).comments
    }

    assert rows[ann_comment.pk] == [kind.pk]
    assertNotContains(logged_in(small["ann"]).get(reverse("my_page")), "Rude")


def test_my_page_queries_do_not_grow_with_comments(small):
    client = logged_in(small["ann"])
    counts = []
    passage = small["text"].passages.get(position=3)
    for size in (1, 10, 50):
        for n in range(size):
            mine = discussions.comment_create(
                author=small["ann"], group=small["group"], passage=passage, body=f"c{n}"
            )
            Comment.objects.create(
                group=small["group"],
                passage=passage,
                author=small["bob"],
                parent=mine,
                root=mine,
                body="r",
                body_html="<p>r</p>",
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("my_page")).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1] == counts[2], counts


def test_header_links_to_my_page(small):
    assertContains(logged_in(small["ann"]).get("/"), f'href="{reverse("my_page")}"')
