"""Times are shown, and typed, in the reader's time zone, which the browser reports."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from groups.models import Meeting


@pytest.fixture
def meeting(group):
    return Meeting.objects.create(
        group=group, starts_at=datetime(2026, 12, 3, 15, 0, tzinfo=UTC), first_position=1,
        last_position=2,
    )  # fmt: skip


def page_with_zone(user, url, zone=None) -> str:
    client = Client()
    client.force_login(user)
    if zone is not None:
        client.cookies["tz"] = zone
    return client.get(url).content.decode()


def test_meeting_times_are_shown_in_the_readers_time_zone(member, meeting):
    page = page_with_zone(member, meeting.get_absolute_url(), "America/New_York")

    assert "Thursday 3 December 2026, 10:00" in page
    assert "EST" in page


@pytest.mark.parametrize("zone", [None, "Mars/Olympus_Mons", "../../etc/passwd", "UTC\x00", ""])
def test_without_a_known_time_zone_times_are_in_the_servers(member, meeting, zone):
    page = page_with_zone(member, meeting.get_absolute_url(), zone)

    assert "Thursday 3 December 2026, 15:00" in page
    assert "UTC" in page


def test_a_meeting_is_typed_in_the_readers_time_zone(facilitator, group):
    client = Client()
    client.force_login(facilitator)
    client.cookies["tz"] = "Asia/Tokyo"

    form = client.get(f"/groups/{group.slug}/meetings/new/").content.decode()
    client.post(
        f"/groups/{group.slug}/meetings/new/",
        {"starts_at": "2026-12-04T09:30", "first_position": "1", "last_position": "1"},
    )

    assert "In your time zone, Asia/Tokyo." in form
    assert Meeting.objects.get().starts_at == datetime(2026, 12, 4, 0, 30, tzinfo=UTC)
