"""Story: a reader in Tokyo signs up; the form proposes the browser's time zone, which
is kept, and Settings shows it (without proposing anything over the reader's choice)."""

import re

from playwright.sync_api import expect

from groups.models import ReaderSettings
from tests.factories import PASSWORD


def test_sign_up_proposes_the_browsers_time_zone(
    new_context, live_server, essay, console, assert_accessible
):
    page = new_context(timezone_id="Asia/Tokyo").new_page()
    page.goto("/accounts/signup/")
    zone = page.get_by_label("Time zone")
    expect(zone).to_have_value("Asia/Tokyo")
    assert_accessible(page)

    page.get_by_label("Username").fill("kenji")
    page.get_by_label("Email").fill("kenji@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{live_server.url}/")
    assert ReaderSettings.objects.get(user__username="kenji").time_zone == "Asia/Tokyo"

    # Settings: the reader's own choice, even the site's zone, is never replaced.
    ReaderSettings.objects.filter(user__username="kenji").update(time_zone="")
    page.goto("/settings/notifications/")
    expect(page.get_by_label("Time zone")).to_have_value("")
    assert_accessible(page)
    console.assert_clean()
