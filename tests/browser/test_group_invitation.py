"""Story: two users in separate browser contexts; one creates a group and copies the invitation
link, the other follows it and joins, and both see each other in the member list."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, horizontal_overflow
from tests.factories import make_user


def expect_members(page: Page, names: list[str], roles: list[str]) -> None:
    rows = page.locator("table.members tbody tr")
    expect(rows.locator("th")).to_have_text(names)
    expect(rows.locator("td:nth-of-type(1)")).to_have_text(roles)


def test_invited_reader_logs_in_through_the_link_joins_and_both_see_each_other(
    new_context, live_server, essay, console, log_in, assert_accessible, screenshot
):
    make_user("amara")
    make_user("bruno")

    # Amara starts a group and copies its invitation link.
    context_a = new_context()
    context_a.grant_permissions(["clipboard-read", "clipboard-write"])
    page_a = context_a.new_page()
    page_a.goto("/accounts/login/")
    assert_accessible(page_a)
    log_in(page_a, "amara")
    page_a.wait_for_url(f"{live_server.url}/")
    page_a.get_by_role("navigation", name="Site").get_by_role("link", name="New group").click()
    page_a.wait_for_url("**/groups/new/")
    expect(page_a.get_by_label("Text:")).to_have_value(str(essay.pk))
    assert_accessible(page_a)
    page_a.get_by_label("Name").fill("Tuesday readers")
    page_a.get_by_label("Description").fill("We meet on Tuesdays at seven.")
    page_a.get_by_role("button", name="Create group").click()

    page_a.wait_for_url("**/groups/tuesday-readers-*/")
    group_url = page_a.url
    expect(page_a.get_by_role("heading", level=1)).to_have_text("Tuesday readers")
    expect(page_a.get_by_role("status")).to_contain_text("“Tuesday readers” is ready.")
    expect_members(page_a, ["amara (you)"], ["Facilitator"])
    assert_accessible(page_a)
    screenshot(page_a, "group-facilitator")

    invite_url = page_a.locator("#invite-url").input_value()
    assert invite_url.startswith(f"{live_server.url}/join/")
    copy_button = page_a.locator("button[data-copy-target=invite-url]")
    expect(copy_button).to_have_text("Copy link")
    copy_button.click()
    expect(copy_button).to_have_text("Copied")
    assert page_a.evaluate("navigator.clipboard.readText()") == invite_url

    # Bruno, logged out in his own browser, follows the link.
    page_b = new_context().new_page()
    page_b.goto(invite_url)
    expect(page_b.get_by_role("heading", level=1)).to_have_text("Join “Tuesday readers”")
    expect(page_b.get_by_role("button", name="Join the group")).to_have_count(0)
    assert_accessible(page_b)
    screenshot(page_b, "invitation-logged-out")

    page_b.get_by_role("main").get_by_role("link", name="log in").click()
    page_b.wait_for_url(re.compile(r"/accounts/login/\?next=/join/[\w-]+/$"))
    log_in(page_b, "bruno")
    page_b.wait_for_url(invite_url)
    assert_accessible(page_b)
    page_b.get_by_role("button", name="Join the group").click()

    page_b.wait_for_url(group_url)
    expect(page_b.get_by_role("status")).to_have_text("You joined “Tuesday readers”.")
    expect(page_b.get_by_text("you are a member")).to_be_visible()
    expect_members(page_b, ["amara", "bruno (you)"], ["Facilitator", "Member"])
    expect(page_b.locator("#invite-url")).to_have_count(0)
    assert_accessible(page_b)
    screenshot(page_b, "group-member")

    # Amara sees Bruno when she reloads.
    page_a.reload()
    expect_members(page_a, ["amara (you)", "bruno"], ["Facilitator", "Member"])
    assert_accessible(page_a)
    screenshot(page_a, "group-facilitator-with-member")
    page_a.set_viewport_size(PHONE)
    assert horizontal_overflow(page_a) == 0
    screenshot(page_a, "group-facilitator-phone")

    console.assert_clean()
