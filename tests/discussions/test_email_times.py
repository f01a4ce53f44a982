"""Emails give their times in the reader's own time zone and name it (issue 11): question
due dates, the digest's times. (Meeting reminders: tests/groups/test_meetings.py.)"""

from datetime import UTC, datetime, timedelta

import pytest

from discussions import services
from discussions.models import Notification, NotificationPreference
from groups.models import Membership
from groups.services import reader_time_zone_set
from tests.discussions.helpers import post_comment
from tests.factories import make_user

# 18:30 UTC on a winter Thursday: 07:30 next day in Auckland (NZDT), 10:30 in Los Angeles.
DUE = datetime(2030, 1, 10, 18, 30, tzinfo=UTC)


@pytest.fixture
def kiri(group):
    """A member in Auckland."""
    user = make_user("kiri")
    Membership.objects.create(group=group, user=user, role=Membership.Role.MEMBER)
    reader_time_zone_set(user=user, time_zone="Pacific/Auckland")
    return user


def bodies(mailoutbox) -> dict[str, str]:
    return {mail.to[0]: mail.body for mail in mailoutbox}


def test_question_email_gives_the_due_time_in_each_readers_zone(
    kiri, member, facilitator, group, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.question_create(
            facilitator=facilitator, group=group, body="Why?", first_position=1,
            last_position=1, due_at=DUE,
        )  # fmt: skip

    assert "\nDue: Friday 11 January, 07:30 NZDT\n" in bodies(mailoutbox)[kiri.email]
    assert "\nDue: Thursday 10 January, 18:30 UTC\n" in bodies(mailoutbox)[member.email]


def test_question_due_reminder_gives_the_due_time_in_each_readers_zone(
    kiri, member, facilitator, group, mailoutbox, django_capture_on_commit_callbacks
):
    with services.emails_muted():
        services.question_create(
            facilitator=facilitator, group=group, body="Why?", first_position=1,
            last_position=1, due_at=DUE,
        )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        assert services.question_due_reminders(now=DUE - timedelta(hours=20)) == 2

    assert bodies(mailoutbox)[kiri.email].startswith(
        "A reading question in Reading circle is due Friday 11 January, 07:30 NZDT "
        "and you have not answered it yet:"
    )
    assert bodies(mailoutbox)[member.email].startswith(
        "A reading question in Reading circle is due Thursday 10 January, 18:30 UTC "
    )


def test_reader_with_a_zone_no_longer_known_gets_the_sites(
    kiri, facilitator, group, mailoutbox, django_capture_on_commit_callbacks
):
    from groups.models import ReaderSettings

    ReaderSettings.objects.filter(user=kiri).update(time_zone="Mars/Olympus_Mons")

    with django_capture_on_commit_callbacks(execute=True):
        services.question_create(
            facilitator=facilitator, group=group, body="Why?", first_position=1,
            last_position=1, due_at=DUE,
        )  # fmt: skip

    assert "\nDue: Thursday 10 January, 18:30 UTC\n" in bodies(mailoutbox)[kiri.email]


def test_digest_gives_its_times_in_the_readers_zone(
    essay, member, facilitator, group, passage, mailoutbox, django_capture_on_commit_callbacks
):
    reader_time_zone_set(user=member, time_zone="America/Los_Angeles")
    services.preference_update(
        user=member, email_replies=True, email_delivery=NotificationPreference.Delivery.DAILY
    )
    NotificationPreference.objects.filter(user=member).update(
        digest_sent_at=DUE - timedelta(days=1)
    )
    top = post_comment(member, group, passage, "Mine.")
    post_comment(facilitator, group, passage, "Yours.", parent=top)
    services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=1, last_position=1,
        due_at=DUE + timedelta(days=1),
    )  # fmt: skip
    Notification.objects.update(created_at=DUE - timedelta(hours=3))

    with django_capture_on_commit_callbacks(execute=True):
        services.daily_digests(now=DUE)  # 10:30 in Los Angeles

    body = bodies(mailoutbox)[member.email]
    assert body.startswith("Your notifications since Wednesday 9 January, 10:30 PST, by group:")
    assert "- Thu 07:30: facilitator replied to you on passage 1:" in body
    assert "due Friday 11 January, 10:30 PST:" in body
