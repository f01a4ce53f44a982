"""Story: a facilitator removes a member, cancels a meeting and makes a new invitation
link; each asks for confirmation first, in the page itself (with and without JavaScript)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Meeting, Membership
from tests.factories import make_group, make_user


@pytest.mark.parametrize("java_script", [True, False])
def test_destructive_group_actions_ask_for_confirmation_first(
    java_script, new_context, live_server, essay, log_in, console, assert_accessible
):
    amara = make_user("amara")
    group = make_group(
        essay, facilitator=make_user("fatima"), name="Night readers", members=[amara]
    )
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=1, last_position=2
    )
    old_token = group.invite_token
    page = new_context(java_script_enabled=java_script).new_page()
    page.goto(f"/accounts/login/?next=/groups/{group.slug}/")
    log_in(page, "fatima")
    page.wait_for_url(f"**/groups/{group.slug}/")

    # Remove: the first click only asks.
    page.get_by_text("Remove amara", exact=True).click()
    confirm = page.get_by_role("button", name="Yes, remove amara")
    expect(confirm).to_be_visible()
    assert Membership.objects.filter(group=group, user=amara).exists()
    if java_script:
        assert_accessible(page)
    confirm.click()
    page.wait_for_url(f"**/groups/{group.slug}/")
    assert not Membership.objects.filter(group=group, user=amara).exists()

    # Cancel a meeting.
    page.get_by_text(
        f"Cancel the meeting of {timezone.localtime(meeting.starts_at):%-d %B}", exact=True
    ).click()
    page.get_by_role("button", name="Yes, cancel the meeting").click()
    page.wait_for_url(f"**/groups/{group.slug}/")
    meeting.refresh_from_db()
    assert meeting.cancelled_at is not None

    # A new invitation link.
    page.get_by_text("Make a new link", exact=True).click()
    page.get_by_role("button", name="Yes, make a new link").click()
    page.wait_for_url(f"**/groups/{group.slug}/")
    group.refresh_from_db()
    assert group.invite_token != old_token
    console.assert_clean()
