"""Story: a facilitator of a 200-member group opens the group at a glance on a phone and
on a desktop, in light and dark mode: the grid scrolls inside its own box (the page does
not scroll sideways), the member column stays in view, and axe finds nothing; a member
opens their own page and the contents with its discussion bars."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from discussions import services as discussions
from groups.models import Meeting, Membership
from reading.models import ReadingProgress
from tests.browser.conftest import PHONE, horizontal_overflow
from tests.factories import make_group, make_user


@pytest.fixture
def big_group(essay):
    facilitator = make_user("ada")
    members = [make_user(f"member-with-a-long-name-{n:03}") for n in range(200)]
    group = make_group(essay, facilitator=facilitator, name="Big circle")
    Membership.objects.bulk_create(Membership(group=group, user=user) for user in members)
    passages = list(essay.passages.order_by("position"))
    ReadingProgress.objects.bulk_create(
        ReadingProgress(reader=user, passage=passage)
        for n, user in enumerate(members)
        for passage in passages[: n % len(passages)]
    )
    for user in members[:5]:
        discussions.comment_create(author=user, group=group, passage=passages[1], body="A thought")
    Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=2, last_position=4
    )
    return group


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_grid_fits_a_phone_and_a_desktop_and_is_accessible(
    new_context, big_group, console, log_in, assert_accessible, screenshot, color_scheme
):
    url = reverse("group_progress", args=[big_group.slug])
    for name, viewport in (("phone", PHONE), ("desktop", None)):
        options = {"color_scheme": color_scheme}
        if viewport:
            options["viewport"] = viewport
        page = new_context(**options).new_page()
        page.goto(f"/accounts/login/?next={url}")
        log_in(page, "ada")
        page.wait_for_url(f"**{url}")
        expect(page.get_by_role("heading", level=1)).to_have_text("The group at a glance")
        rows = page.locator(".progress-grid tbody tr")
        expect(rows).to_have_count(201)
        assert horizontal_overflow(page) == 0
        assert_accessible(page)
        screenshot(page, f"grid-{name}-{color_scheme}")
        if name == "phone":
            box = page.locator(".grid-scroll")
            assert box.evaluate("el => el.scrollWidth > el.clientWidth")
            # Scrolled sideways, the member's name stays in view.
            box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
            first = page.locator(".progress-grid tbody th").first
            assert (
                first.evaluate("el => el.getBoundingClientRect().left")
                >= box.evaluate("el => el.getBoundingClientRect().left") - 1
            )
        # The filter and the sort are a plain GET form (no JavaScript needed).
        page.get_by_label("Passages", exact=True).select_option("meeting")
        page.get_by_label("Sort members by").select_option("least")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**passages=meeting**")
        expect(page.locator(".progress-grid thead th")).to_have_count(2 + 3)
        assert horizontal_overflow(page) == 0
    console.assert_clean()


def test_my_page_and_contents_bars_are_accessible_on_a_phone(
    new_context, live_server, big_group, console, log_in, assert_accessible, screenshot
):
    page = new_context(viewport=PHONE).new_page()
    page.goto("/accounts/login/")
    log_in(page, "member-with-a-long-name-000")
    page.wait_for_url(f"{live_server.url}/")
    # On a phone the header's links are in its menu.
    page.get_by_role("navigation", name="Site").get_by_text("Menu").click()
    page.get_by_role("link", name="My reading").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My reading")
    expect(page.get_by_role("heading", name="My recent comments and the replies")).to_be_visible()
    assert horizontal_overflow(page) == 0
    assert_accessible(page)
    screenshot(page, "my-page-phone")
    page.goto(f"{big_group.text.get_absolute_url()}?group={big_group.slug}")
    expect(page.locator(".contents .activity").nth(1)).to_contain_text("5 comments")
    assert_accessible(page)
    screenshot(page, "contents-phone")
    console.assert_clean()
