"""An action that changes nothing says why, where the reader is: on the next page
without JavaScript, in the page's alert with htmx (and not again on a later page)."""

import pytest
from django.urls import reverse

from discussions import services
from discussions.models import HelpfulMark
from sectstudy.http import NOT_UNDERSTOOD
from tests.discussions.helpers import HTMX, post_comment


def alert_out_of_band(message: str) -> str:
    return (
        f'<p id="site-alert" class="site-alert" role="alert" data-hx-swap-oob="true">{message}</p>'
    )


@pytest.fixture
def theirs(facilitator, group, passage):
    return post_comment(facilitator, group, passage, "Theirs.")


@pytest.mark.parametrize("on", [None, "2", "a\x00b"])
def test_helpful_with_junk_says_it_was_not_understood(member_client, group, theirs, on):
    url = reverse("comment_helpful", args=[group.slug, theirs.pk])

    response = member_client.post(url, {} if on is None else {"on": on}, follow=True)

    assert NOT_UNDERSTOOD in response.content.decode()
    assert not HelpfulMark.objects.exists()


def test_helpful_on_ones_own_comment_with_htmx_says_why_in_place_and_only_there(
    member, member_client, group, passage
):
    mine = post_comment(member, group, passage, "Mine.")

    response = member_client.post(
        reverse("comment_helpful", args=[group.slug, mine.pk]), {"on": "1"}, headers=HTMX
    )
    later = member_client.get(reverse("my_page")).content.decode()

    reason = "You cannot mark your own comment as helpful."
    assert alert_out_of_band(reason) in response.content.decode()
    assert f'id="comment-self-{mine.pk}"' in response.content.decode()
    assert reason not in later


def test_highlighting_a_comment_that_is_no_answer_with_htmx_says_why_in_place(
    facilitator_client, group, theirs
):
    response = facilitator_client.post(
        reverse("answer_highlight", args=[group.slug, theirs.pk]), {"on": "1"}, headers=HTMX
    )

    assert alert_out_of_band("Only answers can be highlighted.") in response.content.decode()


def test_pin_close_and_move_with_junk_say_they_were_not_understood(
    facilitator, facilitator_client, group, theirs
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    for name, pk, data in [
        ("comment_pin", theirs.pk, {"on": "sideways"}),
        ("question_close", question.pk, {}),
        ("question_move", question.pk, {"direction": "sideways"}),
    ]:
        response = facilitator_client.post(reverse(name, args=[group.slug, pk]), data, follow=True)
        assert NOT_UNDERSTOOD in response.content.decode(), name
    theirs.refresh_from_db()
    question.refresh_from_db()
    assert (theirs.pinned_at, question.closed_at) == (None, None)


def test_moderating_a_deleted_comment_is_refused_with_the_reason(
    facilitator, facilitator_client, member, group, passage
):
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1
    )
    gone = post_comment(member, group, passage, "Withdrawn.")
    answer = services.answer_save(author=member, question=question, body="Withdrawn too.")
    post_comment(facilitator, group, passage, "Kept below.", parent=gone)  # a tombstone stays
    for comment in (gone, answer):
        services.comment_delete(user=member, comment=comment)

    hide = facilitator_client.post(
        reverse("comment_hide", args=[group.slug, gone.pk]), {"reason": "Off topic."}
    )
    others = {
        name: facilitator_client.post(
            reverse(name, args=[group.slug, pk]), data, follow=True
        ).content.decode()
        for name, pk, data in [
            ("comment_unhide", gone.pk, {}),
            ("comment_pin", gone.pk, {"on": "1"}),
            ("answer_highlight", answer.pk, {"on": "1"}),
        ]
    }

    assert "A deleted comment cannot be hidden." in hide.content.decode()
    assert "A deleted comment cannot be shown again." in others["comment_unhide"]
    assert "A deleted comment cannot be pinned." in others["comment_pin"]
    assert "A deleted comment cannot be highlighted." in others["answer_highlight"]
    gone.refresh_from_db()
    answer.refresh_from_db()
    assert (gone.hidden_at, gone.pinned_at, answer.highlighted_at) == (None, None, None)


def test_refusal_about_a_comment_that_left_the_page_still_says_why(
    facilitator_client, member, group, passage
):
    gone = post_comment(member, group, passage, "Withdrawn, nothing below.")
    services.comment_delete(user=member, comment=gone)

    response = facilitator_client.post(
        reverse("comment_unhide", args=[group.slug, gone.pk]), headers=HTMX
    )

    html = response.content.decode()
    assert alert_out_of_band("A deleted comment cannot be shown again.") in html
    assert f'id="comment-self-{gone.pk}"' not in html
