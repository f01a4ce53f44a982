"""Ready for the next meeting, and why: passages read of those due and questions answered
of those due, one definition for the group page and the meeting page; who has answered
is the facilitators' to see; queries do not grow with members."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from discussions import services as discussions
from discussions.models import Comment
from groups.models import Meeting, Membership
from reading.models import ReadingProgress
from tests.factories import make_group, make_user


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read(user, text, *positions):
    ReadingProgress.objects.bulk_create(
        ReadingProgress(reader=user, passage=passage)
        for passage in text.passages.filter(position__in=positions)
    )


def ask(facilitator, group, position, body, **extra):
    return discussions.question_create(
        facilitator=facilitator,
        group=group,
        body=body,
        first_position=position,
        last_position=position,
        **extra,
    )


@pytest.fixture
def circle(essay):
    """A meeting on passages 3 to 5 and its questions, and five readers:

    - due: "Levers?" (set for the meeting, on passage 8) and "Walls?" (on passage 4);
    - not due: "Closed?" (on passage 3, closed), "Later?" (on passage 9, no meeting).

    | reader      | passages read (of 3, 4, 5) | answered (due ones)           |
    | fatima (f.) | 3                  (1)     | Walls? (facilitators have none due) |
    | alice       | 3, 4, 5            (3)     | Levers?, Walls?          (2)  |
    | bob         | 3, 4               (2)     | Walls?; Closed?, Later?  (1)  |
    | carol       | 3, 4, 5            (3)     | none                     (0)  |
    | dan         | 3, 4, 5            (3)     | Levers?, deleted         (0)  |
    """
    fatima = make_user("fatima")
    alice, bob, carol, dan = (make_user(name) for name in ("alice", "bob", "carol", "dan"))
    group = make_group(essay, facilitator=fatima, name="Circle", members=[alice, bob, carol, dan])
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=3, last_position=5
    )
    with discussions.emails_muted():
        levers = ask(fatima, group, 8, "Levers?", meeting=meeting)
        walls = ask(fatima, group, 4, "Walls?")
        closed = ask(fatima, group, 3, "Closed?")
        later = ask(fatima, group, 9, "Later?")
        for author, question in [
            (fatima, walls),
            (alice, levers),
            (alice, walls),
            (bob, walls),
            (bob, closed),
            (bob, later),
        ]:
            discussions.answer_save(author=author, question=question, body="An answer.")
        gone = discussions.answer_save(author=dan, question=levers, body="Never mind.")
        discussions.comment_delete(user=dan, comment=gone)
        discussions.question_set_closed(facilitator=fatima, question=closed, closed=True)
    read(fatima, essay, 3)
    for reader in (alice, carol, dan):
        read(reader, essay, 3, 4, 5)
    read(bob, essay, 1, 2, 3, 4)
    return group, meeting


def without_cell_labels(html: str) -> str:
    """The page as a wide screen shows it: without the words each cell says on a phone."""
    return re.sub(r'<span class="cell-label">[^<]*</span>', "", html)


def cells(html: str) -> list[str]:
    """The group page's "Ready for next meeting" cells, in the table's order."""
    verdict = r'(?:<span class="(?:ready|not-ready)">[^<]*</span>)?'
    return re.findall(rf'<td>({verdict}<span class="ready-why">[^<]*</span>)</td>', html)


def test_facilitator_sees_why_each_member_is_ready_or_not(circle):
    group, _ = circle

    response = logged_in(group.memberships.get(role="facilitator").user).get(
        group.get_absolute_url()
    )

    readiness = {
        member.username: (r.passages_read, r.questions_answered, r.questions_due, r.ready)
        for member, r in response.context["members"].rows
    }
    assert readiness == {
        "fatima": (1, 0, 0, False),
        "alice": (3, 2, 2, True),
        "bob": (2, 1, 2, False),
        "carol": (3, 0, 2, False),
        "dan": (3, 0, 2, False),
    }
    assert cells(response.content.decode()) == [
        '<span class="not-ready">Not yet</span><span class="ready-why">: 1 of 3 passages read</span>',
        '<span class="ready">Yes</span><span class="ready-why">: 3 of 3 passages read, 2 of 2 questions answered</span>',
        '<span class="not-ready">Not yet</span><span class="ready-why">: 2 of 3 passages read, 1 of 2 questions answered</span>',
        '<span class="not-ready">Not yet</span><span class="ready-why">: 3 of 3 passages read, 0 of 2 questions answered</span>',
        '<span class="not-ready">Not yet</span><span class="ready-why">: 3 of 3 passages read, 0 of 2 questions answered</span>',
    ]
    assert "who has answered is shown to facilitators only" not in response.content.decode()


def test_a_member_sees_their_own_answers_but_not_whether_others_answered(circle):
    group, _ = circle
    bob = group.memberships.get(user__username="bob").user

    html = logged_in(bob).get(group.get_absolute_url()).content.decode()

    assert cells(html) == [
        # The facilitator has no question due: their readiness is their reading.
        '<span class="not-ready">Not yet</span><span class="ready-why">: 1 of 3 passages read</span>',
        '<span class="ready-why">3 of 3 passages read</span>',
        '<span class="not-ready">Not yet</span><span class="ready-why">: 2 of 3 passages read, 1 of 2 questions answered</span>',
        '<span class="ready-why">3 of 3 passages read</span>',
        '<span class="ready-why">3 of 3 passages read</span>',
    ]
    assert "who has answered is shown to facilitators only" in html


def test_meeting_page_says_who_is_ready_as_the_group_page_does(circle):
    group, meeting = circle
    facilitator = group.memberships.get(role="facilitator").user

    response = logged_in(facilitator).get(meeting.get_absolute_url())

    html = response.content.decode()
    page = response.context["page"]
    assert [
        (row.username, row.passages_read, row.questions_answered, row.ready)
        for row in page.readiness
    ] == [
        ("fatima", 1, 0, False),
        ("alice", 3, 2, True),
        ("bob", 2, 1, False),
        ("carol", 3, 0, False),
        ("dan", 3, 0, False),
    ]
    assert "1 of 5 members has read every passage and answered every question." in html
    assert (
        '<tr><td>bob</td>\n          <td class="num">2 of 3</td>\n'
        '          <td class="num">1 of 2</td>\n'
        '          <td><span class="not-ready">Not yet</span></td></tr>'
    ) in without_cell_labels(html)
    assert '<td class="num"><span class="meta">none (facilitator)</span></td>' in (
        without_cell_labels(html)
    )
    # On a phone the headings are hidden and each cell says what it is.
    assert '<span class="cell-label">Questions answered: </span>1 of 2' in html


def test_meeting_page_for_a_member_counts_only_what_members_may_know(circle):
    group, meeting = circle
    carol = group.memberships.get(user__username="carol").user

    response = logged_in(carol).get(meeting.get_absolute_url())

    html = response.content.decode()
    assert [(row.username, row.ready) for row in response.context["page"].readiness] == [
        ("fatima", False),
        ("alice", None),
        ("bob", None),
        ("carol", False),
        ("dan", None),
    ]
    # alice, carol and dan have read every passage; whether they answered is not said.
    assert "3 of 5 members have read every passage." in html
    assert "answered every question" not in html
    assert (
        '<tr><td>alice</td>\n          <td class="num">3 of 3</td>\n'
        '          <td class="num"><span class="meta">not shown</span></td>\n'
        '          <td><span class="meta">not shown</span></td></tr>'
    ) in without_cell_labels(html)


def test_without_open_questions_ready_is_every_passage_read(essay):
    fatima, amara = make_user("fatima"), make_user("amara")
    group = make_group(essay, facilitator=fatima, members=[amara])
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=3, last_position=4
    )
    with discussions.emails_muted():
        closed = ask(fatima, group, 3, "Closed?", meeting=meeting)
        discussions.question_set_closed(facilitator=fatima, question=closed, closed=True)
    read(amara, essay, 3, 4)

    html = logged_in(fatima).get(meeting.get_absolute_url()).content.decode()

    assert "1 of 2 members has read every passage." in html
    assert "Questions answered" not in html


def _add_members(group, meeting, question, count: int, prefix: str) -> None:
    """`count` members who have read the meeting's passages and answered the question."""
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"{prefix}{n}", email=f"{prefix}{n}@example.com")
        for n in range(count)
    )
    Membership.objects.bulk_create(Membership(group=group, user=user) for user in users)
    passages = list(
        group.text.passages.filter(position__gte=meeting.first_position).filter(
            position__lte=meeting.last_position
        )
    )
    ReadingProgress.objects.bulk_create(
        ReadingProgress(reader=user, passage=passage) for user in users for passage in passages
    )
    Comment.objects.bulk_create(
        Comment(
            group=group,
            passage=passages[0],
            author=user,
            question=question,
            body="An answer.",
            body_html="<p>An answer.</p>",
        )
        for user in users
    )


@pytest.mark.parametrize("page", ["group", "meeting"])
@pytest.mark.parametrize("members", [10, 200])
def test_readiness_queries_do_not_grow_with_members(
    essay, page, members, django_assert_num_queries
):
    fatima, amara = make_user("fatima"), make_user("amara")
    group = make_group(essay, facilitator=fatima, members=[amara])
    Membership.objects.filter(group=group, user=amara).delete()
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=3, last_position=5
    )
    with discussions.emails_muted():
        question = ask(fatima, group, 4, "Walls?", meeting=meeting)
    url = group.get_absolute_url() if page == "group" else meeting.get_absolute_url()
    client = logged_in(fatima)
    client.get(url)  # warm up the session and caches
    _add_members(group, meeting, question, 1, prefix="one")
    with CaptureQueriesContext(connection) as one:
        response = client.get(url)
    assert response.status_code == 200

    _add_members(group, meeting, question, members, prefix="many")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
    rows = (
        [r for _, r in response.context["members"].rows]
        if page == "group"
        else response.context["page"].readiness
    )
    assert len(rows) == members + 2  # and the facilitator
    assert sum(1 for r in rows if r.ready) == members + 1
