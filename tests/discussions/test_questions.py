"""Reading questions: facilitators assign, edit, order, close and delete them; members
answer once each; "answer first" keeps the others' answers out of reach; my questions;
notifications and due reminders; access; concurrency; invalid input; query counts."""

import re
from datetime import datetime, timedelta
from io import StringIO
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import escape

from discussions import services
from discussions import urls as discussion_urls
from discussions.models import Comment, HelpfulMark, Notification, NotificationPreference, Question
from groups.models import Meeting, Membership
from tests.discussions.helpers import logged_in
from tests.factories import at_once, make_group, make_text, make_user

HTMX = {"HX-Request": "true"}
SECRET = "Secret answer from the other member."
SECRET_HTML = f"<p>{SECRET}</p>"


# Fixtures and helpers -------------------------------------------------------------


def url(name: str, group=None, **kwargs) -> str:
    if group is not None:
        kwargs["group_slug"] = group.slug
    return reverse(name, kwargs=kwargs)


def passage_url(group, position: int = 1) -> str:
    return f"/texts/anatomy-of-the-sect/{position}/?group={group.slug}"


def make_question(group, facilitator, body="What makes a sect?", first=1, last=None, **fields):
    return services.question_create(
        facilitator=facilitator,
        group=group,
        body=body,
        first_position=first,
        last_position=last or first,
        **fields,
    )


def answer(author, question, body="My answer."):
    return services.answer_save(author=author, question=question, body=body)


def html_of(client, path: str, **params) -> str:
    response = client.get(path, params)
    assert response.status_code == 200
    return response.content.decode()


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def question_states(html: str) -> dict[int, str]:
    """Question pk -> the member's state label, in page order."""
    return {
        int(pk): label
        for pk, label in re.findall(
            r'id="question-(\d+)">\s*<div class="question-head">\s*<p class="question-meta">\s*'
            r'<span class="question-state">([^<]*)</span>',
            html,
        )
    }


def question_order(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<div class="question state-\w+" id="question-(\d+)"', html)
    ]


def comment_order(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<article class="comment[^"]*"\s+id="comment-(\d+)"', html)
    ]


def table_rows(html: str, heading_id: str) -> list[tuple[str, ...]]:
    """The body rows of the table in the section labelled by `heading_id`, as text."""
    section = re.search(rf'<h2 id="{heading_id}">.*?</table>', html, re.S)
    assert section is not None, heading_id
    rows = re.findall(r"<tr>(.*?)</tr>", section.group(0).split("<tbody>")[1], re.S)
    return [
        tuple(
            # Without the words a phone shows when the headings are hidden.
            re.sub(r"<[^>]+>", "", re.sub(r'<span class="cell-label">.*?</span>', "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        )
        for row in rows
    ]


def local(value: datetime, fmt: str) -> str:
    return dateformat.format(timezone.localtime(value), fmt)


def due_markup(due: datetime) -> str:
    # A valid HTML datetime: whole seconds, no microseconds.
    return (
        f'due <time datetime="{local(due, r"Y-m-d\TH:i:sO")}">{local(due, "D j M, H:i T")}</time>'
    )


def soon(**delta) -> datetime:
    return (timezone.now() + timedelta(**delta)).replace(second=0, microsecond=0)


# Creating a question --------------------------------------------------------------


def test_question_create_renders_sanitized_markdown_and_redirects(
    facilitator_client, facilitator, group
):
    response = facilitator_client.post(
        url("question_create", group),
        {
            "body": "Why **sects**? <script>alert(1)</script> [x](javascript:alert(1))",
            "first_position": "2",
            "last_position": "2",
        },
    )

    question = Question.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/groups/{group.slug}/questions/{question.pk}/"
    assert message_texts(response) == ["Question assigned to passage 2."]
    assert question.group == group
    assert question.created_by == facilitator
    assert (question.first_position, question.last_position) == (2, 2)
    assert question.body == "Why **sects**? <script>alert(1)</script> [x](javascript:alert(1))"
    assert question.body_html == (
        "<p>Why <strong>sects</strong>? &lt;script&gt;alert(1)&lt;/script&gt; "
        "[x](javascript:alert(1))</p>\n"
    )
    assert question.due_at is None
    assert question.meeting is None
    assert question.answer_first is False
    assert question.closed_at is None


def test_question_create_page_prefills_the_passage(facilitator_client, group):
    html = html_of(facilitator_client, url("question_create", group), passage="4")

    assert re.search(r'<input type="number" name="first_position" value="4"', html) is not None
    assert re.search(r'<input type="number" name="last_position" value="4"', html) is not None


def test_question_detail_shows_the_passages_it_asks_about(member_client, facilitator, group):
    question = make_question(group, facilitator, first=2, last=3)
    passages = {p.position: p for p in group.text.passages.filter(position__in=[1, 2, 3, 4])}

    html = html_of(member_client, question.get_absolute_url())

    assert "<summary>The text: passages 2 to 3</summary>" in html
    for position in (2, 3):
        assert (
            f'<p class="meta"><a href="{group.passage_url(position)}">Passage {position}</a></p>\n'
            f"      <p>{escape(passages[position].body)}</p>"
        ) in html
    assert escape(passages[1].body) not in html
    assert escape(passages[4].body) not in html


def test_question_detail_shows_sanitized_markdown(member_client, facilitator, group):
    question = make_question(group, facilitator, "Why **sects**? <script>alert(1)</script>")

    html = html_of(member_client, question.get_absolute_url())

    assert (
        html.count(
            '<div class="question-body"><p>Why <strong>sects</strong>? '
            "&lt;script&gt;alert(1)&lt;/script&gt;</p>\n</div>"
        )
        == 1
    )
    assert "<script>alert(1)" not in html


def test_question_on_a_range_shows_on_every_passage_of_the_range(member_client, facilitator, group):
    question = make_question(group, facilitator, "Across the middle.", first=2, last=4)

    for position in (2, 3, 4):
        html = html_of(member_client, passage_url(group, position))
        assert question_order(html) == [question.pk]
        assert "· Passages 2 to 4" in html
    for position in (1, 5):
        assert question_order(html_of(member_client, passage_url(group, position))) == []


def test_question_create_with_due_date_and_answer_first(facilitator_client, group):
    response = facilitator_client.post(
        url("question_create", group),
        {
            "body": "Answer before reading the others.",
            "first_position": "1",
            "last_position": "3",
            "due_at": "2030-05-01T18:30",
            "answer_first": "on",
        },
    )

    question = Question.objects.get()
    assert response.status_code == 302
    assert message_texts(response) == ["Question assigned to passages 1 to 3."]
    due = datetime(2030, 5, 1, 18, 30, tzinfo=timezone.get_current_timezone())
    assert question.due_at == due
    assert question.due == due
    assert question.answer_first is True


def test_question_due_falls_back_to_the_meeting_time(facilitator_client, member_client, group):
    starts = soon(days=6)
    meeting = Meeting.objects.create(
        group=group, starts_at=starts, first_position=1, last_position=2
    )

    response = facilitator_client.post(
        url("question_create", group),
        {
            "body": "For the meeting.",
            "first_position": "1",
            "last_position": "1",
            "meeting": str(meeting.pk),
        },
    )

    question = Question.objects.get()
    assert response.status_code == 302
    assert question.meeting == meeting
    assert question.due_at is None
    assert question.due == starts
    html = html_of(member_client, passage_url(group))
    assert html.count(due_markup(starts)) == 1
    assert html.count(f"· for the meeting of {local(starts, 'j M')}") == 1


def test_question_own_due_date_wins_over_the_meeting(facilitator, group):
    meeting = Meeting.objects.create(
        group=group, starts_at=soon(days=6), first_position=1, last_position=2
    )
    due = soon(days=2)

    question = make_question(group, facilitator, meeting=meeting, due_at=due)

    assert question.due == due


def test_question_create_offers_no_meeting_of_another_group(facilitator_client, group, other_group):
    own = Meeting.objects.create(
        group=group, starts_at=soon(days=3), first_position=1, last_position=1
    )
    foreign = Meeting.objects.create(
        group=other_group, starts_at=soon(days=4), first_position=1, last_position=1
    )

    html = html_of(facilitator_client, url("question_create", group))

    assert f'<option value="{own.pk}">' in html
    assert f'<option value="{foreign.pk}">' not in html


def test_question_edit_keeps_its_cancelled_meeting(facilitator, facilitator_client, group):
    meeting = Meeting.objects.create(
        group=group, starts_at=soon(days=3), first_position=1, last_position=1
    )
    other = Meeting.objects.create(
        group=group, starts_at=soon(days=5), first_position=1, last_position=1, cancelled_at=soon()
    )
    question = make_question(group, facilitator, meeting=meeting)
    meeting.cancelled_at = soon()
    meeting.save()

    html = html_of(facilitator_client, url("question_edit", group, question_pk=question.pk))
    response = facilitator_client.post(
        url("question_edit", group, question_pk=question.pk),
        {
            "body": "Still for it.",
            "first_position": "1",
            "last_position": "1",
            "meeting": meeting.pk,
        },
    )

    # Offered, marked and chosen; another cancelled meeting is not offered.
    assert re.search(rf'<option value="{meeting.pk}" selected>[^<]* \(cancelled\)</option>', html)
    assert f'<option value="{other.pk}"' not in html
    assert response.status_code == 302
    question.refresh_from_db()
    assert (question.body, question.meeting_id) == ("Still for it.", meeting.pk)


def test_question_create_refuses_a_meeting_of_another_group(facilitator_client, group, other_group):
    foreign = Meeting.objects.create(
        group=other_group, starts_at=soon(days=4), first_position=1, last_position=1
    )

    response = facilitator_client.post(
        url("question_create", group),
        {
            "body": "Sneaky.",
            "first_position": "1",
            "last_position": "1",
            "meeting": str(foreign.pk),
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "meeting": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert Question.objects.count() == 0


INVALID_QUESTIONS = [
    (
        {"first_position": "3", "last_position": "2"},
        "last_position",
        "The last passage cannot come before the first.",
    ),
    (
        {"first_position": "0", "last_position": "1"},
        "first_position",
        "Choose a passage between 1 and 10.",
    ),
    (
        {"first_position": "1", "last_position": "11"},
        "last_position",
        "Choose a passage between 1 and 10.",
    ),
    ({"first_position": "one"}, "first_position", "Enter a whole number."),
    ({"body": ""}, "body", "Write the question."),
    ({"body": "   \n  "}, "body", "Write the question."),
    (
        {"body": "x" * 5001},
        "body",
        "Ensure this value has at most 5000 characters (it has 5001).",
    ),
]


@pytest.mark.parametrize(("data", "field", "error"), INVALID_QUESTIONS)
def test_question_create_with_invalid_input_shows_the_form_again(
    facilitator_client, group, data, field, error
):
    data = {"body": "A fine question.", "first_position": "1", "last_position": "1", **data}

    response = facilitator_client.post(url("question_create", group), data)

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [error]}
    assert response.content.decode().count(error) == 1
    assert Question.objects.count() == 0
    assert Notification.objects.count() == 0


def test_question_create_accepts_exactly_5000_characters(facilitator_client, group):
    response = facilitator_client.post(
        url("question_create", group),
        {"body": "x" * 5000, "first_position": "10", "last_position": "10"},
    )

    assert response.status_code == 302
    assert Question.objects.get().body == "x" * 5000


# Editing, ordering, closing, deleting ---------------------------------------------------


def test_question_edit_updates_the_question(facilitator_client, facilitator, group):
    question = make_question(group, facilitator, "Old *text*.")
    html = html_of(facilitator_client, url("question_edit", group, question_pk=question.pk))
    assert ">\nOld *text*.</textarea>" in html

    response = facilitator_client.post(
        url("question_edit", group, question_pk=question.pk),
        {
            "body": "New **text**.",
            "first_position": "1",
            "last_position": "3",
            "answer_first": "on",
        },
    )

    question.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == question.get_absolute_url()
    assert message_texts(response) == ["Question updated."]
    assert question.body == "New **text**."
    assert question.body_html == "<p>New <strong>text</strong>.</p>\n"
    assert question.last_position == 3
    assert question.answer_first is True


def test_question_edit_with_invalid_range_changes_nothing(facilitator_client, facilitator, group):
    question = make_question(group, facilitator, "Keep me.", first=2, last=3)

    response = facilitator_client.post(
        url("question_edit", group, question_pk=question.pk),
        {"body": "Changed.", "first_position": "5", "last_position": "4"},
    )

    question.refresh_from_db()
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "last_position": ["The last passage cannot come before the first."]
    }
    assert (question.body, question.first_position, question.last_position) == ("Keep me.", 2, 3)


def test_question_move_swaps_with_its_neighbour_on_the_passage(
    facilitator_client, member_client, facilitator, group
):
    first = make_question(group, facilitator, "First.")
    second = make_question(group, facilitator, "Second.")
    third = make_question(group, facilitator, "Third.")
    elsewhere = make_question(group, facilitator, "On passage 2.", first=2)

    def move(question, direction):
        response = facilitator_client.post(
            url("question_move", group, question_pk=question.pk), {"direction": direction}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/groups/{group.slug}/questions/#question-{question.pk}"

    def order():
        return list(Question.objects.filter(group=group, first_position=1))

    move(third, "up")
    assert order() == [first, third, second]
    move(first, "up")
    assert order() == [first, third, second]
    move(first, "down")
    assert order() == [third, first, second]
    move(second, "down")
    assert order() == [third, first, second]
    assert question_order(html_of(member_client, passage_url(group))) == [
        third.pk,
        first.pk,
        second.pk,
    ]
    list_html = html_of(facilitator_client, url("question_list", group))
    assert [int(pk) for pk in re.findall(r'<tr id="question-(\d+)">', list_html)] == [
        third.pk,
        first.pk,
        second.pk,
        elsewhere.pk,
    ]


def test_question_move_with_unknown_direction_changes_nothing(
    facilitator_client, facilitator, group
):
    first = make_question(group, facilitator, "First.")
    second = make_question(group, facilitator, "Second.")

    response = facilitator_client.post(
        url("question_move", group, question_pk=second.pk), {"direction": "sideways"}
    )

    assert response.status_code == 302
    assert list(Question.objects.all()) == [first, second]


def test_question_close_refuses_a_members_answer(
    facilitator_client, member_client, facilitator, group
):
    question = make_question(group, facilitator)

    response = facilitator_client.post(
        url("question_close", group, question_pk=question.pk), {"on": "1"}
    )
    question.refresh_from_db()
    assert response.status_code == 302
    assert message_texts(response) == ["The question is closed: no more answers."]
    assert question.is_closed is True

    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "Too late."}
    )

    assert response.status_code == 422
    assert (
        response.content.decode().count("This question is closed: it takes no more answers.") == 1
    )
    assert Comment.objects.count() == 0


def test_question_close_refuses_an_answer_sent_with_htmx(member_client, facilitator, group):
    question = make_question(group, facilitator)
    services.question_set_closed(facilitator=facilitator, question=question, closed=True)

    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "Too late."}, headers=HTMX
    )

    assert (
        response.content.decode().count("This question is closed: it takes no more answers.") == 1
    )
    assert Comment.objects.count() == 0


def test_question_close_refuses_editing_an_earlier_answer(
    member_client, member, facilitator, group
):
    question = make_question(group, facilitator)
    earlier = answer(member, question, "Before closing.")
    services.question_set_closed(facilitator=facilitator, question=question, closed=True)

    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "After."}
    )

    earlier.refresh_from_db()
    assert response.status_code == 422
    assert (
        response.content.decode().count("This question is closed: it takes no more answers.") == 1
    )
    assert earlier.body == "Before closing."
    assert earlier.edited_at is None


def test_question_close_refuses_editing_the_answer_through_the_comment_edit_url(
    member_client, member, facilitator, group
):
    question = make_question(group, facilitator)
    earlier = answer(member, question, "Before closing.")
    services.question_set_closed(facilitator=facilitator, question=question, closed=True)

    response = member_client.post(
        url("comment_edit", group, comment_pk=earlier.pk), {"body": "After."}
    )

    earlier.refresh_from_db()
    assert response.status_code == 200
    assert (
        response.content.decode().count("This question is closed: it takes no more answers.") == 1
    )
    assert earlier.body == "Before closing."
    assert earlier.edited_at is None


def test_question_close_still_allows_replies_to_answers_to_be_edited(
    member_client, member, other_member, facilitator, group
):
    question = make_question(group, facilitator)
    theirs = answer(other_member, question)
    reply = services.comment_create(
        author=member, group=group, passage=theirs.passage, body="A reply.", parent=theirs
    )
    services.question_set_closed(facilitator=facilitator, question=question, closed=True)

    response = member_client.post(
        url("comment_edit", group, comment_pk=reply.pk), {"body": "Edited."}
    )

    reply.refresh_from_db()
    assert response.status_code == 302
    assert reply.body == "Edited."


def test_closed_question_shows_no_answer_form(member_client, facilitator, group):
    question = make_question(group, facilitator)
    services.question_set_closed(facilitator=facilitator, question=question, closed=True)

    html = html_of(member_client, passage_url(group))

    assert f'id="answer-form-{question.pk}"' not in html
    assert html.count("This question is closed and takes no more answers.") == 1
    assert question_states(html) == {question.pk: "Closed"}


def test_question_reopen_takes_answers_again(facilitator_client, member_client, facilitator, group):
    question = make_question(group, facilitator)
    services.question_set_closed(facilitator=facilitator, question=question, closed=True)

    response = facilitator_client.post(
        url("question_close", group, question_pk=question.pk), {"on": "0"}
    )
    assert message_texts(response) == ["The question is open again."]
    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "Now."}
    )

    assert response.status_code == 302
    assert Comment.objects.get().body == "Now."


def test_question_delete_with_answers_needs_confirmation(
    facilitator_client, facilitator, member, group
):
    question = make_question(group, facilitator)
    answer(member, question)
    delete_url = url("question_delete", group, question_pk=question.pk)
    assert (
        html_of(facilitator_client, delete_url).count(
            "It has 1 answer; they will be deleted with it."
        )
        == 1
    )

    response = facilitator_client.post(delete_url, {})

    assert response.status_code == 422
    assert (
        response.content.decode().count(
            "This question has 1 answer: tick the box to delete them too."
        )
        == 1
    )
    assert Question.objects.count() == 1
    assert Comment.objects.count() == 1

    response = facilitator_client.post(delete_url, {"confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == f"/groups/{group.slug}/questions/"
    assert message_texts(response) == ["The question is deleted."]
    assert Question.objects.count() == 0
    assert Comment.objects.count() == 0


def test_question_delete_without_answers_needs_no_confirmation(
    facilitator_client, facilitator, group
):
    question = make_question(group, facilitator)

    response = facilitator_client.post(url("question_delete", group, question_pk=question.pk), {})

    assert response.status_code == 302
    assert Question.objects.count() == 0


# What facilitators see -----------------------------------------------------------------


def test_question_detail_shows_the_facilitator_who_has_answered(
    facilitator_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator)
    mine = answer(member, question)

    html = html_of(facilitator_client, question.get_absolute_url())

    assert table_rows(html, "overview-heading") == [
        ("member", f"Answered {local(mine.created_at, 'j M, H:i')}"),
        ("other", "Not yet"),
    ]


def test_question_detail_hides_the_overview_from_members(member_client, facilitator, member, group):
    question = make_question(group, facilitator)
    answer(member, question)

    html = html_of(member_client, question.get_absolute_url())

    assert "Who has answered" not in html
    assert "Manage" not in html
    assert url("question_delete", group, question_pk=question.pk) not in html


def test_question_list_shows_the_facilitator_outstanding_answers_by_member(
    facilitator_client, facilitator, member, other_member, group
):
    overdue = make_question(group, facilitator, "Overdue.", first=1, due_at=soon(hours=-2))
    upcoming = make_question(group, facilitator, "Upcoming.", first=2, due_at=soon(days=2))
    closed = make_question(group, facilitator, "Closed.", first=3)
    services.question_set_closed(facilitator=facilitator, question=closed, closed=True)
    answer(member, overdue)
    answer(member, upcoming)

    html = html_of(facilitator_client, url("question_list", group))

    assert table_rows(html, "outstanding-heading") == [
        ("member", "0", "0", "All answered"),
        ("other", "2", "1", "passage 1, passage 2"),
    ]


def test_question_list_counts_who_answered_each_question(
    facilitator_client, facilitator, member, other_member, group
):
    answered = make_question(group, facilitator, "Answered by one.", first=1)
    closed = make_question(group, facilitator, "Closed unanswered.", first=2)
    services.question_set_closed(facilitator=facilitator, question=closed, closed=True)
    answer(member, answered)

    html = html_of(facilitator_client, url("question_list", group))

    counts = re.findall(
        r'<tr id="question-(\d+)">.*?<td class="num"><span class="cell-label">Answered by </span>'
        r"([^<]*)</td>",
        html,
        re.S,
    )
    assert counts == [(str(answered.pk), "1 of 2"), (str(closed.pk), "0 of 2")]


def test_question_list_hides_the_outstanding_table_from_members(member_client, facilitator, group):
    make_question(group, facilitator)

    html = html_of(member_client, url("question_list", group))

    assert "Outstanding answers by member" not in html
    assert "Add a question" not in html


def test_answer_highlight_puts_the_answer_first(
    facilitator_client, member_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator)
    earlier = answer(member, question, "Earlier answer.")
    later = answer(other_member, question, "Later answer.")
    highlight_url = url("answer_highlight", group, comment_pk=later.pk)

    response = facilitator_client.post(highlight_url, {"on": "1"})

    later.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{question.get_absolute_url()}#comment-{later.pk}"
    assert later.highlighted_at is not None
    for client in (facilitator_client, member_client):
        html = html_of(client, question.get_absolute_url())
        assert comment_order(html) == [later.pk, earlier.pk]
        assert html.count("highlight for the meeting</span>") == 1
    assert comment_order(html_of(member_client, passage_url(group))) == [later.pk, earlier.pk]

    facilitator_client.post(highlight_url, {"on": "0"})

    later.refresh_from_db()
    assert later.highlighted_at is None
    assert comment_order(html_of(member_client, question.get_absolute_url())) == [
        earlier.pk,
        later.pk,
    ]


def test_answer_highlight_with_htmx_returns_the_answer(
    facilitator_client, facilitator, member, group
):
    question = make_question(group, facilitator)
    mine = answer(member, question)

    response = facilitator_client.post(
        url("answer_highlight", group, comment_pk=mine.pk), {"on": "1"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert re.findall(r'id="comment-self-(\d+)"', html) == [str(mine.pk)]
    assert html.count("Remove highlight") == 1


def test_answer_highlight_of_a_plain_comment_is_refused(facilitator_client, member, group, passage):
    comment = services.comment_create(author=member, group=group, passage=passage, body="Plain.")

    response = facilitator_client.post(
        url("answer_highlight", group, comment_pk=comment.pk), {"on": "1"}
    )

    comment.refresh_from_db()
    assert response.status_code == 302
    assert message_texts(response) == ["Only answers can be highlighted."]
    assert comment.highlighted_at is None


def test_answer_highlight_by_a_member_is_forbidden(
    member_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator)
    theirs = answer(other_member, question)

    response = member_client.post(url("answer_highlight", group, comment_pk=theirs.pk), {"on": "1"})

    theirs.refresh_from_db()
    assert response.status_code == 403
    assert theirs.highlighted_at is None


# What members see and do ---------------------------------------------------------------


def test_passage_page_shows_questions_with_due_date_and_state(
    member_client, facilitator, member, group
):
    due = soon(days=5)
    unanswered = make_question(group, facilitator, "Still open.", due_at=due)
    answered = make_question(group, facilitator, "Done already.")
    overdue = make_question(group, facilitator, "Too late now.", due_at=soon(hours=-1))
    answer(member, answered)

    html = html_of(member_client, passage_url(group))

    assert question_states(html) == {
        unanswered.pk: "Not answered yet",
        answered.pk: "Answered",
        overdue.pk: "Overdue",
    }
    assert html.count(due_markup(due)) == 1
    assert html.count('<div class="question-body"><p>Still open.</p>\n</div>') == 1


def test_passage_page_hides_questions_of_other_groups(member_client, essay, outsider, group):
    other = make_group(essay, facilitator=outsider, name="Other circle")
    make_question(other, outsider, "Not for you.")

    html = html_of(member_client, passage_url(group))

    assert "Not for you." not in html
    assert question_order(html) == []


def test_answer_save_creates_the_answer_from_markdown(member_client, facilitator, member, group):
    question = make_question(group, facilitator, first=3, last=4)

    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "It is *sectarian*."}
    )

    mine = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{question.get_absolute_url()}#answers"
    assert message_texts(response) == ["Your answer is saved."]
    assert mine.question == question
    assert mine.author == member
    assert mine.group == group
    assert mine.parent is None
    assert mine.passage.position == 3
    assert mine.body_html == "<p>It is <em>sectarian</em>.</p>\n"
    assert mine.edited_at is None


def test_answer_save_with_htmx_returns_the_question_block(member_client, facilitator, group):
    question = make_question(group, facilitator)

    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "Via htmx."}, headers=HTMX
    )

    html = response.content.decode()
    mine = Comment.objects.get()
    assert response.status_code == 200
    assert question_states(html) == {question.pk: "Answered"}
    assert comment_order(html) == [mine.pk]
    # Answered: no edit box repeating the answer; the answer itself has "Edit".
    assert "Update answer" not in html
    assert f'href="/groups/{group.slug}/comments/{mine.pk}/edit/"' in html


def test_answer_save_again_edits_the_one_answer(member_client, facilitator, member, group):
    question = make_question(group, facilitator)
    answer_url = url("answer_save", group, question_pk=question.pk)

    member_client.post(answer_url, {"body": "First try."})
    response = member_client.post(answer_url, {"body": "Second *try*."})

    mine = Comment.objects.get()
    assert response.status_code == 302
    assert mine.body == "Second *try*."
    assert mine.body_html == "<p>Second <em>try</em>.</p>\n"
    assert mine.edited_at is not None
    html = html_of(member_client, question.get_absolute_url())
    assert html.count('<span class="edited">edited') == 1
    assert "First try." not in html
    assert "<p>Second <em>try</em>.</p>" in html
    assert "</textarea>" not in html  # shown once, as posted


def test_answer_save_with_invalid_body_shows_errors(member_client, facilitator, group):
    question = make_question(group, facilitator)
    answer_url = url("answer_save", group, question_pk=question.pk)

    empty = member_client.post(answer_url, {"body": "  "})
    too_long = member_client.post(answer_url, {"body": "x" * 10_001})
    with_htmx = member_client.post(answer_url, {"body": ""}, headers=HTMX)

    assert empty.status_code == 422
    assert empty.content.decode().count("Write something before posting.") == 1
    assert too_long.status_code == 422
    assert (
        too_long.content.decode().count(
            "Comments can be at most 10,000 characters long (this one has 10001)."
        )
        == 1
    )
    assert with_htmx.status_code == 200
    assert with_htmx.content.decode().count("Write something before posting.") == 1
    assert Comment.objects.count() == 0


def test_comment_delete_removes_the_members_own_answer(member_client, facilitator, member, group):
    question = make_question(group, facilitator)
    mine = answer(member, question)

    response = member_client.post(url("comment_delete", group, comment_pk=mine.pk))

    assert response.status_code == 302
    assert Comment.objects.get().is_deleted
    html = html_of(member_client, question.get_absolute_url())
    assert question_states(html) == {question.pk: "Not answered yet"}
    assert html.count("Post answer") == 1


def test_answer_with_replies_deleted_leaves_a_tombstone_and_can_be_answered_again(
    member_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator)
    mine = answer(member, question, "Original.")
    services.comment_create(
        author=other_member, group=group, passage=mine.passage, body="A reply.", parent=mine
    )

    member_client.post(url("comment_delete", group, comment_pk=mine.pk))
    response = member_client.post(
        url("answer_save", group, question_pk=question.pk), {"body": "Anew."}
    )

    mine.refresh_from_db()
    assert response.status_code == 302
    assert mine.deleted_at is not None
    fresh = Comment.objects.get(question=question, parent=None, deleted_at=None)
    assert fresh.pk != mine.pk
    assert fresh.body == "Anew."


def test_reply_to_an_answer_carries_its_question(
    other_client, member_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator, first=2)
    mine = answer(member, question, "My answer.")

    response = other_client.post(
        url("comment_create", group, position=2), {"body": "I disagree.", "parent": str(mine.pk)}
    )

    reply = Comment.objects.get(parent=mine)
    assert response.status_code == 302
    assert reply.question_id == question.pk
    assert reply.author == other_member
    assert reply.passage_id == mine.passage_id
    assert list(
        Notification.objects.filter(kind="reply").values_list("recipient__username", flat=True)
    ) == ["member"]
    html = html_of(member_client, question.get_absolute_url())
    assert comment_order(html) == [mine.pk, reply.pk]
    passage_html = html_of(member_client, passage_url(group, 2))
    assert (
        passage_html.count('Discussion <span class="meta" id="comment-count">(0 comments)</span>')
        == 1
    )


def test_reply_to_a_reply_in_an_answer_thread_carries_the_question(
    member_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator)
    mine = answer(member, question)
    reply = services.comment_create(
        author=other_member, group=group, passage=mine.passage, body="Why?", parent=mine
    )

    member_client.post(
        url("comment_create", group, position=1), {"body": "Because.", "parent": str(reply.pk)}
    )

    assert Comment.objects.get(parent=reply).question_id == question.pk


def test_helpful_mark_on_an_answer(other_client, facilitator, member, other_member, group):
    question = make_question(group, facilitator)
    mine = answer(member, question)

    response = other_client.post(url("comment_helpful", group, comment_pk=mine.pk), {"on": "1"})

    assert response.status_code == 302
    assert list(HelpfulMark.objects.values_list("comment_id", "user__username")) == [
        (mine.pk, "other")
    ]
    assert html_of(other_client, question.get_absolute_url()).count("1 found this helpful") == 1


# "Answer first" --------------------------------------------------------------------------


@pytest.fixture
def answer_first(facilitator, other_member, group):
    """An answer-first question on passage 1 that `other_member` has answered."""
    question = make_question(group, facilitator, "Say it first.", answer_first=True)
    theirs = answer(other_member, question, SECRET)
    return question, theirs


def test_answer_first_hides_answers_on_the_passage_page_until_answered(
    member_client, member, group, answer_first
):
    question, _ = answer_first

    html = html_of(member_client, passage_url(group))
    assert SECRET not in html
    assert html.count("1 member answered. Post your answer to see theirs.") == 1

    answer(member, question, "Mine first.")

    html = html_of(member_client, passage_url(group))
    assert html.count(SECRET_HTML) == 1
    assert "Post your answer to see theirs." not in html


def test_answer_first_hides_answers_on_the_question_page_until_answered(
    member_client, member, group, answer_first
):
    question, _ = answer_first

    html = html_of(member_client, question.get_absolute_url())
    assert SECRET not in html

    answer(member, question, "Mine first.")

    assert html_of(member_client, question.get_absolute_url()).count(SECRET_HTML) == 1


def test_answer_first_hides_answers_from_the_answer_fragment_of_another_question(
    member_client, facilitator, other_member, group, answer_first
):
    locked, _ = answer_first
    second = make_question(group, facilitator, "Second one.", answer_first=True)
    answer(other_member, second, "Answer to the second from other.")

    response = member_client.post(
        url("answer_save", group, question_pk=second.pk),
        {"body": "Mine to the second."},
        headers=HTMX,
    )
    invalid = member_client.post(
        url("answer_save", group, question_pk=locked.pk), {"body": ""}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Answer to the second from other." in html
    assert SECRET not in html
    assert invalid.status_code == 200
    assert SECRET not in invalid.content.decode()
    passage_html = html_of(member_client, passage_url(group))
    assert SECRET not in passage_html
    assert passage_html.count("Answer to the second from other.") == 1


def test_answer_first_hides_the_thread_of_another_members_answer(
    member_client, member, group, answer_first
):
    question, theirs = answer_first
    thread_url = url("comment_thread", group, comment_pk=theirs.pk)

    assert member_client.get(thread_url).status_code == 404
    assert member_client.get(thread_url, headers=HTMX).status_code == 404
    assert member_client.get(thread_url, {"part": "replies"}, headers=HTMX).status_code == 404

    answer(member, question, "Mine first.")

    response = member_client.get(thread_url)
    assert response.status_code == 200
    assert response.content.decode().count(SECRET_HTML) == 1


def test_answer_first_hides_replies_in_another_members_thread(
    member_client, facilitator, member, group, answer_first
):
    question, theirs = answer_first
    reply = services.comment_create(
        author=facilitator,
        group=group,
        passage=theirs.passage,
        body="Facilitator reply.",
        parent=theirs,
    )

    assert member_client.get(url("comment_thread", group, comment_pk=reply.pk)).status_code == 404
    assert member_client.get(url("comment_reply", group, comment_pk=reply.pk)).status_code == 404
    assert "Facilitator reply." not in html_of(member_client, question.get_absolute_url())


def test_answer_first_refuses_replies_to_another_members_answer(
    member_client, member, group, answer_first
):
    question, theirs = answer_first

    form = member_client.get(url("comment_reply", group, comment_pk=theirs.pk))
    posted = member_client.post(
        url("comment_create", group, position=1), {"body": "Peeking.", "parent": str(theirs.pk)}
    )
    empty = member_client.post(
        url("comment_create", group, position=1), {"body": "", "parent": str(theirs.pk)}
    )

    assert form.status_code == 404
    assert posted.status_code == 404
    assert empty.status_code == 404
    assert SECRET not in form.content.decode() + posted.content.decode() + empty.content.decode()
    assert Comment.objects.filter(parent=theirs).count() == 0

    answer(member, question, "Mine first.")

    assert member_client.get(url("comment_reply", group, comment_pk=theirs.pk)).status_code == 200


def test_answer_first_refuses_helpful_marks_on_another_members_answer(
    member_client, member, group, answer_first
):
    question, theirs = answer_first
    helpful_url = url("comment_helpful", group, comment_pk=theirs.pk)

    response = member_client.post(helpful_url, {"on": "1"})
    htmx_response = member_client.post(helpful_url, {"on": "1"}, headers=HTMX)

    assert response.status_code == 404
    assert htmx_response.status_code == 404
    assert SECRET not in htmx_response.content.decode()
    assert HelpfulMark.objects.count() == 0

    answer(member, question, "Mine first.")

    assert member_client.post(helpful_url, {"on": "1"}).status_code == 302
    assert HelpfulMark.objects.count() == 1


def test_answer_first_hides_answers_again_after_deleting_ones_own(
    member_client, member, group, answer_first
):
    question, theirs = answer_first
    mine = answer(member, question, "Mine first.")

    member_client.post(url("comment_delete", group, comment_pk=mine.pk))

    assert SECRET not in html_of(member_client, question.get_absolute_url())
    assert member_client.get(url("comment_thread", group, comment_pk=theirs.pk)).status_code == 404


def test_answer_first_hides_answers_on_every_passage_of_a_range(
    member_client, facilitator, member, other_member, group
):
    question = make_question(group, facilitator, "Across.", first=2, last=4, answer_first=True)
    answer(other_member, question, SECRET)

    for position in (2, 3, 4):
        assert SECRET not in html_of(member_client, passage_url(group, position))

    answer(member, question, "Mine first.")

    for position in (2, 3, 4):
        assert html_of(member_client, passage_url(group, position)).count(SECRET_HTML) == 1


def test_answer_first_never_hides_answers_from_facilitators(
    facilitator_client, group, answer_first
):
    question, theirs = answer_first

    assert html_of(facilitator_client, passage_url(group)).count(SECRET_HTML) == 1
    assert html_of(facilitator_client, question.get_absolute_url()).count(SECRET_HTML) == 1
    assert (
        html_of(facilitator_client, url("comment_thread", group, comment_pk=theirs.pk)).count(
            SECRET_HTML
        )
        == 1
    )


def test_answer_first_does_not_hide_the_members_own_answer(other_client, group, answer_first):
    question, _ = answer_first

    assert html_of(other_client, question.get_absolute_url()).count(SECRET_HTML) == 1


def test_without_answer_first_members_see_answers_before_answering(
    member_client, facilitator, other_member, group
):
    question = make_question(group, facilitator, "Open discussion.")
    answer(other_member, question, SECRET)

    assert html_of(member_client, passage_url(group)).count(SECRET_HTML) == 1
    assert html_of(member_client, question.get_absolute_url()).count(SECRET_HTML) == 1


# My questions ---------------------------------------------------------------------------


def my_question_sections(html: str) -> dict[str, list[str]]:
    return {
        slug: re.findall(r'<li>\s*<a href="[^"]+">([^<]*)</a>', body)
        for slug, body in re.findall(
            r'<section aria-labelledby="section-([\w-]+)"[^>]*>(.*?)</section>', html, re.S
        )
    }


def test_my_questions_sorts_questions_across_groups_by_state(
    member_client, essay, facilitator, member, group
):
    second_facilitator = make_user("second_facilitator")
    second = make_group(
        make_text(passages=3),
        facilitator=second_facilitator,
        name="Second circle",
        members=[member],
    )
    meeting = Meeting.objects.create(
        group=second, starts_at=soon(days=2), first_position=2, last_position=2
    )
    overdue = make_question(group, facilitator, "Overdue question.", due_at=soon(hours=-2))
    make_question(second, second_facilitator, "Due soon question.", first=2, meeting=meeting)
    make_question(group, facilitator, "Open far off.", first=2, due_at=soon(days=10))
    make_question(second, second_facilitator, "Open without a date.")
    answered = make_question(
        group, facilitator, "Answered question.", first=3, due_at=soon(days=-1)
    )
    closed = make_question(second, second_facilitator, "Closed question.", first=3)
    services.question_set_closed(facilitator=second_facilitator, question=closed, closed=True)
    answer(member, answered)
    outsider_group = make_group(essay, name="Not mine")
    make_question(outsider_group, outsider_group.memberships.get().user, "Not my question.")

    html = html_of(member_client, url("my_questions"))

    assert my_question_sections(html) == {
        "overdue": ["Overdue question."],
        "due-soon": ["Due soon question."],
        "open": ["Open far off.", "Open without a date."],
        "answered": ["Answered question."],
        "closed": ["Closed question."],
    }
    assert html.count('<h2 id="section-overdue">Overdue <span class="meta">(1)</span></h2>') == 1
    assert html.count('<h2 id="section-due-soon">Due soon <span class="meta">(1)</span></h2>') == 1
    assert html.count('<h2 id="section-open">Open <span class="meta">(2)</span></h2>') == 1
    assert html.count('<h2 id="section-answered">Answered <span class="meta">(1)</span></h2>') == 1
    assert html.count(f'<a href="{overdue.get_absolute_url()}">Overdue question.</a>') == 1
    assert html.count(f"Second circle · passage 2 · {due_markup(meeting.starts_at)}") == 1


def test_my_questions_due_soon_means_within_three_days(member_client, facilitator, group):
    make_question(group, facilitator, "In two days.", due_at=soon(days=2, hours=23))
    make_question(group, facilitator, "In four days.", first=2, due_at=soon(days=4))

    html = html_of(member_client, url("my_questions"))

    assert my_question_sections(html) == {"due-soon": ["In two days."], "open": ["In four days."]}


def test_my_questions_without_questions_says_so(member_client, group):
    html = html_of(member_client, url("my_questions"))

    assert my_question_sections(html) == {}
    assert html.count("No questions yet. When a facilitator assigns one, it appears here.") == 1


def test_my_questions_leaves_out_the_questions_a_facilitator_assigned(
    facilitator_client, facilitator, group
):
    make_question(group, facilitator, "For the members.", due_at=soon(hours=-1))

    html = html_of(facilitator_client, url("my_questions"))

    assert my_question_sections(html) == {}


# Notifications -------------------------------------------------------------------------


def test_question_create_notifies_members_not_facilitators(
    facilitator_client, facilitator, member, other_member, group
):
    co_facilitator = make_user("co_facilitator")
    Membership.objects.create(group=group, user=co_facilitator, role=Membership.Role.FACILITATOR)

    facilitator_client.post(
        url("question_create", group),
        {"body": "Notify them.", "first_position": "1", "last_position": "1"},
    )

    question = Question.objects.get()
    assert sorted(
        Notification.objects.values_list(
            "recipient__username", "actor__username", "kind", "question_id"
        )
    ) == [
        ("member", "facilitator", "question_assigned", question.pk),
        ("other", "facilitator", "question_assigned", question.pk),
    ]


def test_question_create_emails_members_after_commit(
    facilitator_client,
    facilitator,
    member,
    other_member,
    group,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        facilitator_client.post(
            url("question_create", group),
            {"body": "Read *closely*.", "first_position": "2", "last_position": "2"},
        )
        assert len(mailoutbox) == 0

    question = Question.objects.get()
    assert len(callbacks) == 1
    assert sorted(message.to[0] for message in mailoutbox) == [
        "member@example.com",
        "other@example.com",
    ]
    assert {message.subject for message in mailoutbox} == {"New reading question in Reading circle"}
    body = mailoutbox[0].body
    assert body.startswith(
        "Your facilitator assigned a reading question on passage 2 in Reading circle:\n\n"
        "Read *closely*.\n"
    )
    assert (
        f"Answer it here: {settings.SITE_URL}/groups/{group.slug}/questions/{question.pk}/" in body
    )


def test_question_create_sends_no_email_without_commit(facilitator, member, group, mailoutbox):
    make_question(group, facilitator)

    assert len(mailoutbox) == 0
    assert Notification.objects.count() == 1


def test_question_email_respects_members_who_turned_it_off(
    member_client,
    facilitator,
    member,
    other_member,
    group,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    response = member_client.post(url("notification_settings"), {"email_replies": "on"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=member).email_questions is False

    with django_capture_on_commit_callbacks(execute=True):
        make_question(group, facilitator)

    assert [message.to for message in mailoutbox] == [["other@example.com"]]
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "member",
        "other",
    ]


def test_question_email_off_with_every_box_unticked(
    member_client, facilitator, member, group, mailoutbox, django_capture_on_commit_callbacks
):
    response = member_client.post(url("notification_settings"), {})
    assert response.status_code == 302

    with django_capture_on_commit_callbacks(execute=True):
        make_question(group, facilitator)

    preference = NotificationPreference.objects.get(user=member)
    assert (preference.email_replies, preference.email_questions) == (False, False)
    assert len(mailoutbox) == 0


def test_question_create_under_emails_muted_sends_no_email(
    facilitator, member, group, mailoutbox, django_capture_on_commit_callbacks
):
    with services.emails_muted(), django_capture_on_commit_callbacks(execute=True):
        make_question(group, facilitator)

    assert len(mailoutbox) == 0
    assert Notification.objects.count() == 1


def test_question_due_reminders_remind_unanswered_members_once(
    facilitator, member, other_member, group, mailoutbox, django_capture_on_commit_callbacks
):
    question = make_question(group, facilitator, "Due tomorrow.", due_at=soon(hours=20))
    answer(other_member, question)
    Notification.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        sent = services.question_due_reminders()

    question.refresh_from_db()
    assert sent == 1
    assert list(Notification.objects.values_list("recipient__username", "kind", "question_id")) == [
        ("member", "question_due", question.pk)
    ]
    assert question.due_reminder_sent_at is not None
    assert [message.to for message in mailoutbox] == [["member@example.com"]]
    assert mailoutbox[0].subject == "Due tomorrow in Reading circle: a reading question"

    with django_capture_on_commit_callbacks(execute=True):
        assert services.question_due_reminders() == 0

    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


def test_question_due_reminders_use_the_meeting_time(facilitator, member, group):
    meeting = Meeting.objects.create(
        group=group, starts_at=soon(hours=20), first_position=1, last_position=1
    )
    make_question(group, facilitator, meeting=meeting)

    assert services.question_due_reminders() == 1
    assert Notification.objects.filter(kind="question_due").count() == 1


def test_question_due_reminders_skip_questions_not_due_within_a_day(
    facilitator, member, other_member, group
):
    make_question(group, facilitator, "In three days.", due_at=soon(days=3))
    make_question(group, facilitator, "Already past.", due_at=soon(hours=-2))
    make_question(group, facilitator, "No due date.")
    closed = make_question(group, facilitator, "Closed.", due_at=soon(hours=20))
    services.question_set_closed(facilitator=facilitator, question=closed, closed=True)
    all_answered = make_question(group, facilitator, "All answered.", due_at=soon(hours=20))
    answer(member, all_answered)
    answer(other_member, all_answered)

    assert services.question_due_reminders() == 0
    assert Notification.objects.filter(kind="question_due").count() == 0


def test_send_due_reminders_command_prints_the_count(facilitator, member, other_member, group):
    make_question(group, facilitator, due_at=soon(hours=20))
    first, second = StringIO(), StringIO()

    call_command("send_due_reminders", stdout=first)
    call_command("send_due_reminders", stdout=second)

    assert (
        first.getvalue() == "2 question reminders sent; 0 meetings reminded; 0 daily digests due.\n"
    )
    assert (
        second.getvalue()
        == "0 question reminders sent; 0 meetings reminded; 0 daily digests due.\n"
    )


# Access ---------------------------------------------------------------------------------

# name -> method -> (member status, facilitator status)
QUESTION_URLS = {
    "question_list": {"GET": (200, 200)},
    "question_create": {"GET": (403, 200), "POST": (403, 302)},
    "question_detail": {"GET": (200, 200)},
    "question_edit": {"GET": (403, 200), "POST": (403, 302)},
    "answer_save": {"POST": (302, 302)},
    "question_close": {"POST": (403, 302)},
    "question_move": {"POST": (403, 302)},
    "question_delete": {"GET": (403, 200), "POST": (403, 302)},
    "answer_highlight": {"POST": (403, 302)},
    "my_questions": {"GET": (200, 200)},
}
ACCESS_CASES = [(name, method) for name, methods in QUESTION_URLS.items() for method in methods]
POST_DATA = {
    "body": "Changed by the request.",
    "first_position": "1",
    "last_position": "1",
    "on": "1",
    "direction": "down",
    "confirm": "on",
}


def test_access_table_covers_every_question_url():
    names = {
        pattern.name
        for pattern in discussion_urls.urlpatterns
        if pattern.name.startswith(("question_", "answer_", "my_questions"))
    }
    assert names == set(QUESTION_URLS)


@pytest.fixture
def access_world(facilitator, member, other_member, group, other_group):
    question = make_question(group, facilitator, "Original.")
    make_question(group, facilitator, "Neighbour.")
    theirs = answer(other_member, question, "Their answer.")
    return question, theirs


def access_url(name, group, question, theirs) -> str:
    if name == "my_questions":
        return url(name)
    if name in ("question_list", "question_create"):
        return url(name, group)
    if name == "answer_highlight":
        return url(name, group, comment_pk=theirs.pk)
    return url(name, group, question_pk=question.pk)


def snapshot():
    return (
        list(Question.objects.values_list("pk", "body", "order", "closed_at", "last_position")),
        list(Comment.objects.values_list("pk", "body", "highlighted_at")),
    )


@pytest.mark.parametrize(("name", "method"), ACCESS_CASES)
def test_question_urls_for_members(member_client, group, access_world, name, method):
    path = access_url(name, group, *access_world)
    expected = QUESTION_URLS[name][method][0]
    before = snapshot()

    response = member_client.get(path) if method == "GET" else member_client.post(path, POST_DATA)

    assert response.status_code == expected
    if expected == 403:
        assert snapshot() == before


@pytest.mark.parametrize(("name", "method"), ACCESS_CASES)
def test_question_urls_for_facilitators(facilitator_client, group, access_world, name, method):
    path = access_url(name, group, *access_world)

    response = (
        facilitator_client.get(path)
        if method == "GET"
        else facilitator_client.post(path, POST_DATA)
    )

    assert response.status_code == QUESTION_URLS[name][method][1]


@pytest.mark.parametrize(("name", "method"), ACCESS_CASES)
def test_question_urls_for_outsiders_and_facilitators_elsewhere(
    outsider_client, group, access_world, name, method
):
    path = access_url(name, group, *access_world)
    before = snapshot()

    response = (
        outsider_client.get(path) if method == "GET" else outsider_client.post(path, POST_DATA)
    )

    assert response.status_code == (200 if name == "my_questions" else 404)
    assert snapshot() == before
    assert "Original." not in response.content.decode()


@pytest.mark.parametrize(("name", "method"), ACCESS_CASES)
def test_question_urls_for_anonymous_visitors(client, group, access_world, name, method):
    path = access_url(name, group, *access_world)
    before = snapshot()

    response = client.get(path) if method == "GET" else client.post(path, POST_DATA)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(path)}"
    assert snapshot() == before


def test_question_of_another_group_is_not_found_through_ones_own_group(
    outsider_client, facilitator, member, group, other_group
):
    question = make_question(group, facilitator, "Private.")

    for name in ("question_detail", "question_edit", "question_delete"):
        path = url(name, other_group, question_pk=question.pk)
        assert outsider_client.get(path).status_code == 404
    mine = answer(member, question)
    posts = {
        url("question_close", other_group, question_pk=question.pk): {"on": "1"},
        url("answer_save", other_group, question_pk=question.pk): {"body": "Mine."},
        url("answer_highlight", other_group, comment_pk=mine.pk): {"on": "1"},
    }
    for path, data in posts.items():
        assert outsider_client.post(path, data).status_code == 404
    question.refresh_from_db()
    mine.refresh_from_db()
    assert question.closed_at is None
    assert mine.highlighted_at is None
    assert Comment.objects.count() == 1


def test_question_urls_with_a_huge_number_are_not_found(member_client, facilitator_client, group):
    huge = 2**63

    assert member_client.get(url("question_detail", group, question_pk=huge)).status_code == 404
    assert (
        member_client.post(url("answer_save", group, question_pk=huge), {"body": "x"}).status_code
        == 404
    )
    assert facilitator_client.get(url("question_edit", group, question_pk=huge)).status_code == 404


# Concurrency ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_answer_save_concurrently_keeps_one_answer(essay, facilitator, member, group):
    question = make_question(group, facilitator)
    answer_url = url("answer_save", group, question_pk=question.pk)
    threads_count = 8
    clients = [logged_in(member) for _ in range(threads_count)]

    statuses = at_once(
        *[
            lambda c=c, n=n: c.post(answer_url, {"body": f"Answer number {n}."}).status_code
            for n, c in enumerate(clients)
        ]
    )

    assert statuses == [302] * threads_count
    answers = list(Comment.objects.filter(question=question))
    assert len(answers) == 1
    assert answers[0].author == member
    assert answers[0].body in {f"Answer number {n}." for n in range(threads_count)}


# Query counts ---------------------------------------------------------------------------


def add_answered_question(group, facilitator, member, other_member, number: int, position=1):
    meeting = Meeting.objects.create(
        group=group,
        starts_at=soon(days=number + 1),
        first_position=position,
        last_position=position,
    )
    question = make_question(
        group,
        facilitator,
        f"Question {number}.",
        first=position,
        meeting=meeting,
        answer_first=True,
    )
    answer(member, question, f"Member answer {number}.")
    theirs = answer(other_member, question, f"Other answer {number}.")
    services.answer_set_highlighted(facilitator=facilitator, answer=theirs, highlighted=True)
    services.comment_create(
        author=member, group=group, passage=theirs.passage, body=f"Reply {number}.", parent=theirs
    )
    services.helpful_set(user=member, comment=theirs, helpful=True)
    return question


@pytest.mark.parametrize("viewer", ["member", "facilitator"])
def test_passage_page_queries_do_not_grow_with_questions(
    request, facilitator, member, other_member, group, django_assert_num_queries, viewer
):
    client = logged_in(request.getfixturevalue(viewer))
    add_answered_question(group, facilitator, member, other_member, 0)
    path = passage_url(group)
    client.get(path)  # remembers the group in the session
    with CaptureQueriesContext(connection) as one:
        assert client.get(path).status_code == 200
    for number in range(1, 8):
        add_answered_question(group, facilitator, member, other_member, number)

    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get(path)

    html = response.content.decode()
    assert len(question_order(html)) == 8
    assert html.count("Other answer") == 8


def test_question_list_queries_do_not_grow_with_questions(
    facilitator_client, facilitator, member, other_member, group, django_assert_num_queries
):
    path = url("question_list", group)
    add_answered_question(group, facilitator, member, other_member, 0)
    with CaptureQueriesContext(connection) as one:
        assert facilitator_client.get(path).status_code == 200
    for number in range(1, 8):
        add_answered_question(group, facilitator, member, other_member, number, position=number + 1)
    make_question(group, facilitator, "Unanswered.", due_at=soon(hours=-1))

    with django_assert_num_queries(len(one.captured_queries)):
        response = facilitator_client.get(path)

    assert response.content.decode().count('<tr id="question-') == 9


def test_my_questions_queries_do_not_grow_with_questions(
    member_client, facilitator, member, other_member, group, django_assert_num_queries
):
    path = url("my_questions")
    add_answered_question(group, facilitator, member, other_member, 0)
    with CaptureQueriesContext(connection) as one:
        assert member_client.get(path).status_code == 200
    for number in range(1, 8):
        add_answered_question(group, facilitator, member, other_member, number, position=number + 1)

    with django_assert_num_queries(len(one.captured_queries)):
        response = member_client.get(path)

    assert my_question_sections(response.content.decode())["answered"] == [
        f"Question {number}." for number in range(8)
    ]


def test_question_detail_queries_do_not_grow_with_answers(
    facilitator_client, facilitator, member, group, django_assert_num_queries
):
    question = make_question(group, facilitator, meeting=None)
    answer(member, question)
    path = question.get_absolute_url()
    with CaptureQueriesContext(connection) as one:
        assert facilitator_client.get(path).status_code == 200
    for number in range(7):
        user = make_user(f"reader_{number}")
        Membership.objects.create(group=group, user=user, role=Membership.Role.MEMBER)
        answer(user, question, f"Answer {number}.")

    with django_assert_num_queries(len(one.captured_queries)):
        response = facilitator_client.get(path)

    assert len(table_rows(response.content.decode(), "overview-heading")) == 8


def test_answer_mentions_notify_only_those_who_may_see_the_answer(
    client, essay, django_capture_on_commit_callbacks
):
    from discussions import services as discussion_services
    from discussions.models import Notification
    from tests.factories import make_group, make_user

    lead = make_user("lead")
    answered, waiting = make_user("answered"), make_user("waiting")
    group = make_group(essay, facilitator=lead, members=[answered, waiting])
    author = make_user("author")
    group.memberships.create(user=author, role="member")
    blind = discussion_services.question_create(
        facilitator=lead,
        group=group,
        first_position=2,
        last_position=2,
        body="Blind question",
        due_at=None,
        meeting=None,
        answer_first=True,
    )
    discussion_services.answer_save(author=answered, question=blind, body="mine")

    discussion_services.answer_save(
        author=author, question=blind, body="cc @lead @answered @waiting"
    )

    mentioned = set(
        Notification.objects.filter(kind="mention").values_list("recipient__username", flat=True)
    )
    assert mentioned == {"lead", "answered"}


def test_changing_the_due_date_rearms_the_reminder(essay):
    from datetime import timedelta

    from django.utils import timezone

    from discussions import services as discussion_services
    from tests.factories import make_group, make_user

    lead = make_user("lead")
    group = make_group(essay, facilitator=lead, members=[make_user("late")])
    question = discussion_services.question_create(
        facilitator=lead,
        group=group,
        first_position=1,
        last_position=1,
        body="Due soon",
        due_at=timezone.now() + timedelta(hours=20),
        meeting=None,
        answer_first=False,
    )
    assert discussion_services.question_due_reminders() == 1

    question.due_at = timezone.now() + timedelta(hours=22)
    discussion_services.question_update(facilitator=lead, question=question)

    assert discussion_services.question_due_reminders() == 1


def test_facilitator_sees_own_question_as_facilitating_not_unanswered(client, essay):
    from discussions import services as discussion_services
    from tests.factories import make_group, make_user

    lead = make_user("leader")
    group = make_group(essay, facilitator=lead, members=[make_user("reader2")])
    discussion_services.question_create(
        facilitator=lead,
        group=group,
        first_position=4,
        last_position=4,
        body="Why miniaturize?",
        due_at=None,
        meeting=None,
        answer_first=False,
    )
    client.force_login(lead)

    html = client.get(f"/texts/{essay.slug}/4/?group={group.slug}").content.decode()

    assert "You facilitate: answering is optional" in html
    assert "Not answered yet" not in html
