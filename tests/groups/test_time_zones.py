"""Each reader's time zone: chosen at sign-up (the browser proposes one), changed under
Settings, and used for every time a page shows, with the zone named where it matters."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from groups.models import Meeting, ReaderSettings
from groups.services import reader_time_zone_set
from tests.factories import PASSWORD

# 18:30 UTC on a winter Thursday: 19:30 in Berlin (CET), 07:30 next day in Auckland (NZDT).
STARTS = datetime(2030, 1, 10, 18, 30, tzinfo=UTC)


@pytest.fixture
def meeting(group):
    return Meeting.objects.create(group=group, starts_at=STARTS, first_position=1, last_position=2)


def test_signup_keeps_the_chosen_time_zone_and_shows_times_in_it(client, essay, group, meeting):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newreader",
            "email": "newreader@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "time_zone": "Europe/Berlin",
        },
    )

    assert response.status_code == 302
    user = get_user_model().objects.get(username="newreader")
    assert ReaderSettings.objects.get(user=user).time_zone == "Europe/Berlin"
    group.memberships.create(user=user, role="member")
    html = client.get(group.get_absolute_url()).content.decode()
    assert (
        '<time datetime="2030-01-10T19:30:00+0100">Thursday 10 January 2030, 19:30 CET</time>'
    ) in html


def test_signup_page_offers_the_time_zones_for_the_browser_to_propose(client, db):
    html = client.get("/accounts/signup/").content.decode()

    assert (
        '<select name="time_zone" data-propose-browser-zone="" '
        'aria-describedby="id_time_zone_helptext" id="id_time_zone">'
    ) in html
    assert '<option value="Europe/Berlin">Europe/Berlin</option>' in html
    assert '<option value="America/New_York">America/New York</option>' in html


def test_settings_change_the_time_zone_for_the_next_page(client, member, group, meeting):
    client.force_login(member)
    before = client.get(group.get_absolute_url()).content.decode()
    assert "Thursday 10 January 2030, 18:30 UTC" in before

    response = client.post(
        "/settings/notifications/", {"time_zone": "Pacific/Auckland", "email_replies": "on"}
    )

    assert response.status_code == 302
    assert ReaderSettings.objects.get(user=member).time_zone == "Pacific/Auckland"
    after = client.get(group.get_absolute_url()).content.decode()
    assert (
        '<time datetime="2030-01-11T07:30:00+1300">Friday 11 January 2030, 07:30 NZDT</time>'
    ) in after
    settings_page = client.get("/settings/notifications/").content.decode()
    assert '<option value="Pacific/Auckland" selected>Pacific/Auckland</option>' in settings_page


def test_settings_refuse_an_unknown_time_zone_and_change_nothing(client, member):
    reader_time_zone_set(user=member, time_zone="Europe/Berlin")
    client.force_login(member)

    response = client.post("/settings/notifications/", {"time_zone": "Mars/Olympus_Mons"})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert ReaderSettings.objects.get(user=member).time_zone == "Europe/Berlin"


def test_time_zone_comes_back_at_the_next_login(client, member, group, meeting):
    reader_time_zone_set(user=member, time_zone="Europe/Berlin")

    client.force_login(member)

    assert "19:30 CET" in client.get(group.get_absolute_url()).content.decode()


def test_another_reader_keeps_the_site_time_zone(client, member, facilitator, group, meeting):
    reader_time_zone_set(user=member, time_zone="Pacific/Auckland")
    client.force_login(facilitator)

    assert "Thursday 10 January 2030, 18:30 UTC" in (
        client.get(group.get_absolute_url()).content.decode()
    )


def test_a_meeting_is_typed_in_the_readers_time_zone(client, facilitator, group):
    reader_time_zone_set(user=facilitator, time_zone="Asia/Tokyo")
    client.force_login(facilitator)

    form = client.get(f"/groups/{group.slug}/meetings/new/").content.decode()
    client.post(
        f"/groups/{group.slug}/meetings/new/",
        {"starts_at": "2026-12-04T09:30", "first_position": "1", "last_position": "1"},
    )

    assert "In your time zone, Asia/Tokyo." in form
    assert Meeting.objects.get().starts_at == datetime(2026, 12, 4, 0, 30, tzinfo=UTC)
