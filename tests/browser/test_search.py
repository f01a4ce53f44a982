"""Story: search as you type from the header and the search page, follow a result to the
comment it found; and the same form without JavaScript, as a plain form."""

import re

from playwright.sync_api import expect

from discussions.services import comment_create
from tests.factories import make_group, make_user


def test_search_as_you_type_finds_a_comment_and_links_to_it(
    page, live_server, essay, console, assert_accessible, log_in
):
    member = make_user("ben")
    group = make_group(essay, name="Thursday circle", members=[member])
    comment = comment_create(
        author=member,
        group=group,
        passage=essay.passages.get(position=5),
        body="Where did Bolshevik discipline come from?",
    )
    page.goto("/accounts/login/")
    log_in(page, "ben")
    page.goto("/")
    header_box = page.get_by_role("search", name="Texts and discussions").get_by_label(
        "Search texts and discussions"
    )
    header_box.fill("miniaturized")
    header_box.press("Enter")
    page.wait_for_url("**/search/?q=miniaturized")
    expect(page.locator(".search-hit mark").first).to_contain_text("miniatur")
    assert_accessible(page)

    box = page.get_by_label("Words to find")
    box.fill("bolshevik discip")  # no Enter: results follow the typing
    hit = page.locator(".search-hit-comment")
    expect(hit).to_have_count(1)
    expect(hit.locator("mark").first).to_have_text("Bolshevik")
    expect(page).to_have_url(f"{live_server.url}/search/?q=bolshevik%20discip&kind=&group=&author=")
    # One short status is announced, not the results; typing added no history entries.
    expect(page.get_by_role("status")).to_have_text(re.compile(r"^\d+ results?$"))
    assert page.locator("#search-results").get_attribute("aria-live") is None
    assert "{#" not in page.content()
    assert_accessible(page)
    page.go_back()  # to the search made from the header, not to each word typed since
    page.wait_for_url("**/search/?q=miniaturized")
    page.go_forward()

    hit = page.locator(".search-hit-comment")
    hit.get_by_role("link").click()
    page.wait_for_url(f"**/texts/anatomy-of-the-sect/5/?group={group.slug}#comment-{comment.pk}")
    expect(page.locator(f"#comment-{comment.pk}")).to_be_visible()
    console.assert_clean()


def test_search_without_javascript_is_a_plain_form(new_context, essay):
    page = new_context(java_script_enabled=False).new_page()
    page.goto("/search/")
    page.get_by_label("Words to find").fill("sect party")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".search-hit").first).to_be_visible()
    expect(page).to_have_url(f"{page.url.split('/search/')[0]}/search/?q=sect+party&kind=")
