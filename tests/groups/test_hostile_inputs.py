"""Reported findings (issue 12, 2-4): dates that cannot be read back, removed members
walking back in, and `next` values that are not paths. Each failed on the old code."""

import re
from datetime import UTC, datetime

import pytest
from django.contrib.messages import get_messages
from django.db import IntegrityError, transaction
from django.urls import reverse

from discussions.models import Question
from groups import services
from groups.models import Meeting, StudyGroup
from tests.factories import logged_in

EXTREME_DATES = [
    "9999-12-31T23:59-14:00",
    "0001-01-01T00:30+01:00",
    "1899-12-31T23:59",
    "2200-01-01T00:00",
]
OUT_OF_RANGE = "Choose a date between the years 1900 and 2199."


def messages_of(response) -> list[str]:
    return [message.message for message in get_messages(response.wsgi_request)]


# Dates -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", EXTREME_DATES)
def test_invitation_expiry_out_of_range_is_refused_and_the_group_still_works(
    group, facilitator, member, value
):
    client = logged_in(facilitator)
    token = group.invite_token
    response = client.post(
        reverse("invitation_regenerate", args=[group.slug]), {"expires_at": value}
    )
    assert response.status_code == 422  # the confirmation page, with the error beside the field
    assert OUT_OF_RANGE in response.content.decode()
    group.refresh_from_db()
    assert (group.invite_token, group.invite_expires_at) == (token, None)
    assert logged_in(member).get(group.get_absolute_url()).status_code == 200


@pytest.mark.parametrize("value", EXTREME_DATES)
def test_meeting_start_out_of_range_is_a_form_error(group, facilitator, value):
    response = logged_in(facilitator).post(
        reverse("meeting_create", args=[group.slug]),
        {"starts_at": value, "first_position": 1, "last_position": 2},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"starts_at": [OUT_OF_RANGE]}
    assert Meeting.objects.count() == 0


@pytest.mark.parametrize("value", EXTREME_DATES)
def test_question_due_out_of_range_is_a_form_error(group, facilitator, member, value):
    response = logged_in(facilitator).post(
        reverse("question_create", args=[group.slug]),
        {"body": "Why?", "first_position": 1, "last_position": 1, "due_at": value},
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"due_at": [OUT_OF_RANGE]}
    assert Question.objects.count() == 0
    assert logged_in(member).get(reverse("my_questions")).status_code == 200


def test_database_refuses_dates_out_of_range(group):
    far = datetime(2500, 1, 1, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        StudyGroup.objects.filter(pk=group.pk).update(invite_expires_at=far)
    with pytest.raises(IntegrityError), transaction.atomic():
        Meeting.objects.create(group=group, starts_at=far, first_position=1, last_position=1)


def test_date_within_range_is_accepted(group, facilitator):
    response = logged_in(facilitator).post(
        reverse("meeting_create", args=[group.slug]),
        {"starts_at": "2199-12-31T23:59", "first_position": 1, "last_position": 2},
    )
    assert response.status_code == 302
    assert Meeting.objects.get().starts_at.year == 2199


# The nights the clocks change ----------------------------------------------------------


def test_a_meeting_at_a_time_the_clocks_pass_twice_is_at_the_first(group, facilitator):
    """02:30 on 27 October 2030 happens twice in Berlin: summer time first, as calendars say."""
    services.reader_time_zone_set(user=facilitator, time_zone="Europe/Berlin")

    response = logged_in(facilitator).post(
        reverse("meeting_create", args=[group.slug]),
        {"starts_at": "2030-10-27T02:30", "first_position": 1, "last_position": 2},
    )

    assert response.status_code == 302
    assert Meeting.objects.get().starts_at == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


def test_a_time_the_clocks_skip_is_refused_in_words(group, facilitator):
    services.reader_time_zone_set(user=facilitator, time_zone="Europe/Berlin")

    response = logged_in(facilitator).post(
        reverse("question_create", args=[group.slug]),
        {"body": "Why?", "first_position": 1, "last_position": 1, "due_at": "2030-03-31T02:30"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "due_at": [
            "02:30 on 31 March 2030 does not exist in Europe/Berlin: the clocks go forward "
            "then. Choose another time."
        ]
    }
    assert Question.objects.count() == 0


# Removing a member --------------------------------------------------------------------


def test_removed_member_cannot_rejoin_with_the_same_link(group, facilitator, member):
    join_url = reverse("group_join", args=[group.invite_token])
    target = group.memberships.get(user=member)
    services.membership_remove(acting_user=facilitator, membership=target)

    client = logged_in(member)
    response = client.post(join_url)

    assert response.status_code == 403
    assert "A facilitator removed you" in response.content.decode()
    assert not group.memberships.filter(user=member).exists()


def test_removed_member_can_join_again_with_a_new_link(group, facilitator, member):
    target = group.memberships.get(user=member)
    services.membership_remove(acting_user=facilitator, membership=target)
    group = services.invitation_regenerate(facilitator=facilitator, group=group)

    response = logged_in(member).post(reverse("group_join", args=[group.invite_token]))

    assert response.status_code == 302
    assert group.memberships.filter(user=member).exists()


def test_member_who_left_can_rejoin_with_the_same_link(group, member):
    client = logged_in(member)
    client.post(reverse("group_leave", args=[group.slug]))

    response = client.post(reverse("group_join", args=[group.invite_token]))

    assert response.status_code == 302
    assert group.memberships.filter(user=member).exists()


# `next` -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", "welcome", "home", "//evil.example/x", "\x00/x", "https://evil.example/"]
)
def test_progress_next_that_is_not_a_local_path_goes_back_to_the_passage(essay, reader, value):
    client = logged_in(reader)
    response = client.post(
        reverse("progress_update", args=[essay.slug, 2]), {"read": "1", "next": value}
    )
    assert (response.status_code, response["Location"]) == (
        302,
        reverse("passage_detail", args=[essay.slug, 2]),
    )


def test_signup_with_next_that_is_not_a_path_signs_in_and_goes_home(client, db):
    response = client.post(
        reverse("signup") + "?next=welcome",
        {
            "username": "newreader",
            "email": "new@example.com",
            "password1": "a-long-enough-pass-phrase",
            "password2": "a-long-enough-pass-phrase",
            "next": "welcome",
        },
    )
    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert client.get(reverse("home")).context["user"].username == "newreader"


def test_a_weak_password_is_said_of_the_password_with_any_mismatch_at_once(client, db):
    response = client.post(
        reverse("signup"),
        {"username": "newcomer", "email": "n@example.org", "password1": "12345678"}
        | {"password2": "12345679"},
    )

    errors = response.context["form"].errors
    assert "This password is too common." in errors["password1"]
    assert errors["password2"] == ["The two password fields didn’t match."]
    password1 = re.search(r'<input [^>]*id="id_password1"[^>]*>', response.content.decode())
    assert 'aria-invalid="true"' in password1[0]
