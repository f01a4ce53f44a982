"""Story: sign up, open the essay, go to passage 2 with the keyboard, mark it read and see the
progress bar change; then the same without JavaScript."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, horizontal_overflow
from tests.factories import PASSWORD, make_user

ESSAY = "/texts/anatomy-of-the-sect/"


def expect_progress(page: Page, read: int, total: int = 10) -> None:
    bar = page.locator("#progress-panel progress")
    expect(bar).to_have_attribute("value", str(read))
    expect(bar).to_have_attribute("max", str(total))
    expect(page.locator("#progress-panel .progress-label")).to_have_text(
        f"Your progress: {read} of {total} passages read"
    )


def test_reading_with_javascript_signs_up_pages_by_keyboard_and_marks_read_in_place(
    page, live_server, essay, console, assert_accessible, screenshot
):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Read together, passage by passage")
    assert_accessible(page)

    page.get_by_role("navigation", name="Site").get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/")
    assert_accessible(page)
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Sign up").click()

    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("status")).to_have_text("Welcome to sectstudy, ada.")
    expect(page.get_by_label("Your progress")).to_have_attribute("value", "0")
    assert_accessible(page)
    screenshot(page, "home")

    page.get_by_role("link", name="Anatomy of the Sect").click()
    page.wait_for_url(f"**{ESSAY}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Anatomy of the Sect")
    assert_accessible(page)
    screenshot(page, "text")

    page.get_by_role("link", name="Start reading").click()
    page.wait_for_url(f"**{ESSAY}1/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Passage 1")
    assert_accessible(page)

    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**{ESSAY}2/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Passage 2")
    expect_progress(page, 0)

    page.evaluate("window.__marker = 'same document'")
    with page.expect_response(re.compile(r"/2/progress/$")) as progress_response:
        page.get_by_role("button", name="Mark as read").click()
    assert progress_response.value.status == 200
    assert progress_response.value.request.header_value("HX-Request") == "true"
    expect_progress(page, 1)
    expect(page.get_by_role("button", name="Mark as unread")).to_be_visible()
    expect(page.locator("#progress-panel")).to_contain_text("You have read this passage.")
    assert page.evaluate("window.__marker") == "same document", "the page was reloaded"
    assert page.url == f"{live_server.url}{ESSAY}2/"
    assert_accessible(page)
    screenshot(page, "passage-desktop")

    console.assert_clean()


def test_reading_without_javascript_uses_links_and_plain_form_posts(
    new_context, live_server, essay, console, log_in
):
    # The same pages as above, so axe (which needs JavaScript) has checked them already.
    make_user("grace")
    page = new_context(java_script_enabled=False).new_page()

    page.goto(f"/accounts/login/?next={ESSAY}1/")
    log_in(page, "grace")
    page.wait_for_url(f"**{ESSAY}1/")
    expect_progress(page, 0)

    page.get_by_role("link", name="Passage 2").click()
    page.wait_for_url(f"**{ESSAY}2/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Passage 2")

    with page.expect_response(re.compile(r"/2/progress/$")) as progress_response:
        page.get_by_role("button", name="Mark as read").click()
    assert progress_response.value.status == 302
    assert progress_response.value.request.header_value("HX-Request") is None
    # Back to the same page, at the panel that changed.
    assert progress_response.value.header_value("Location") == f"{ESSAY}2/#progress-panel"
    page.wait_for_url(f"**{ESSAY}2/#progress-panel")
    expect_progress(page, 1)
    expect(page.get_by_role("button", name="Mark as unread")).to_be_visible()

    console.assert_clean()


def test_passage_page_fits_a_phone_and_reads_in_dark_mode(
    new_context, live_server, essay, console, log_in, assert_accessible, screenshot
):
    make_user("hedy")
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"/accounts/login/?next={ESSAY}2/")
    log_in(phone, "hedy")
    phone.wait_for_url(f"**{ESSAY}2/")
    phone.get_by_role("button", name="Mark as read").click()
    expect_progress(phone, 1)
    assert horizontal_overflow(phone) == 0
    screenshot(phone, "passage-phone")

    dark = new_context(color_scheme="dark", storage_state=phone.context.storage_state()).new_page()
    dark.goto(f"{ESSAY}2/")
    expect_progress(dark, 1)
    assert dark.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    assert_accessible(dark)
    screenshot(dark, "passage-dark")

    console.assert_clean()
