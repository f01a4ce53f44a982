"""Story: a facilitator and a visitor on a 360 px phone. No page scrolls sideways, the
header is one row with a menu (which opens without JavaScript too), every control a
finger hits is at least 44 px, and axe finds nothing, in light and dark."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from discussions import services
from groups.models import Meeting
from reading.models import Passage
from tests.browser.conftest import DESKTOP, MIN_TARGET, PHONE, horizontal_overflow
from tests.factories import make_group, make_user

ESSAY = "/texts/anatomy-of-the-sect/"
LONG_LINK = "https://example.org/" + "a-very-long-path-segment" * 4
# What a finger hits outside running text: header, navigation, buttons, fields, links
# that stand alone. Links inside sentences are exempt (WCAG 2.5.5), as are checkboxes,
# whose labels are 44 px rows that toggle them.
CONTROLS = (
    "a:not(p a, li > p a, td a, dd a, .comment-body a, .passage-body a, .question-body a,"
    " .visually-hidden, .skip-link, .help a, .helptext a),"
    " button, summary, select, textarea,"
    " input:not([type=hidden], [type=checkbox], [type=radio])"
)


@pytest.fixture
def circle(essay):
    fatima, amara = make_user("fatima"), make_user("amara")
    group = make_group(
        essay,
        facilitator=fatima,
        name="The Thursday evening circle of very patient readers",
        members=[amara],
    )
    passage = Passage.objects.get(text=essay, position=3)
    comment = services.comment_create(
        author=amara,
        group=group,
        passage=passage,
        body=f"See {LONG_LINK} and `{'x' * 80}`",
        quote="organizational walls",
        quote_start=passage.body.index("organizational walls"),
    )
    services.comment_create(
        author=fatima, group=group, passage=passage, body="Agreed, @amara.", parent=comment
    )
    question = services.question_create(
        facilitator=fatima,
        group=group,
        body="What is a sect?",
        first_position=3,
        last_position=3,
    )
    services.question_create(  # a second, with a due date: the list's widest row
        facilitator=fatima,
        group=group,
        body="Which of the three approaches to unity does the essay reject, and why?",
        first_position=1,
        last_position=3,
        due_at=timezone.now() + timedelta(days=2),
    )
    meeting = Meeting.objects.create(
        group=group,
        starts_at=timezone.now() + timedelta(days=3),
        first_position=1,
        last_position=3,
        agenda="Bring one example.",
    )
    return group, comment, question, meeting


def member_pages(group, comment, question, meeting) -> list[str]:
    g = f"/groups/{group.slug}"
    return [
        "/",
        ESSAY,
        f"{ESSAY}3/?group={group.slug}",
        f"{ESSAY}10/?group={group.slug}",
        f"{ESSAY}notes/",
        f"{g}/",
        f"{g}/edit/",
        f"{g}/meetings/new/",
        f"{g}/meetings/{meeting.pk}/edit/",
        f"{g}/meetings/{meeting.pk}/",
        f"{g}/meetings/{meeting.pk}/handout/",
        f"{g}/progress/",
        "/me/",
        "/search/?q=sect",
        "/settings/calendar/",
        f"{g}/questions/",
        f"{g}/questions/{question.pk}/",
        f"{g}/questions/new/",
        f"{g}/questions/{question.pk}/delete/",
        f"{g}/comments/{comment.pk}/",
        f"{g}/comments/{comment.pk}/reply/",
        f"{g}/comments/{comment.pk}/hide/",
        "/questions/",
        "/notifications/",
        "/settings/notifications/",
        "/accounts/password_change/",
        "/groups/new/",
    ]


VISITOR_PAGES = ["/", ESSAY, f"{ESSAY}3/", "/accounts/login/", "/accounts/signup/"]


def small_controls(page: Page) -> list[str]:
    return page.evaluate(
        """([selector, min]) => [...document.querySelectorAll(selector)]
          .filter((el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")
          .map((el) => [el, el.getBoundingClientRect()])
          .filter(([el, r]) => r.width < min - 0.5 || r.height < min - 0.5)
          .map(([el, r]) => {
            const label = (el.textContent || el.name || "").trim().slice(0, 30);
            const size = `${Math.round(r.width)}×${Math.round(r.height)}`;
            return `${el.tagName.toLowerCase()} “${label}”: ${size}`;
          })""",
        [CONTROLS, MIN_TARGET],
    )


def phone(new_context, dark=False):
    return new_context(
        viewport=PHONE,
        has_touch=True,
        is_mobile=True,
        color_scheme="dark" if dark else "light",
    )


def test_no_page_scrolls_sideways_and_every_control_is_44px_on_a_phone(
    new_context, live_server, circle, log_in, console, assert_accessible
):
    visitor = phone(new_context).new_page()
    problems = []
    for path in VISITOR_PAGES:
        visitor.goto(path)
        if overflow := horizontal_overflow(visitor):
            problems.append(f"{path} (visitor): scrolls {overflow} px sideways")
        problems += [f"{path} (visitor): {small}" for small in small_controls(visitor)]

    for dark in (False, True):
        member = phone(new_context, dark=dark).new_page()
        member.goto("/accounts/login/")
        log_in(member, "fatima")
        member.wait_for_url(f"{live_server.url}/")
        for path in member_pages(*circle):
            response = member.goto(path)
            assert response.status == 200, path
            if overflow := horizontal_overflow(member):
                problems.append(f"{path}: scrolls {overflow} px sideways")
            if not dark:
                problems += [f"{path}: {small}" for small in small_controls(member)]
            assert_accessible(member)
    assert problems == [], "\n".join(problems)
    console.assert_clean()


@pytest.mark.parametrize("java_script", [True, False])
def test_phone_header_is_one_row_with_a_menu(
    java_script, new_context, live_server, circle, log_in, screenshot
):
    context = new_context(
        viewport=PHONE, has_touch=True, is_mobile=True, java_script_enabled=java_script
    )
    page = context.new_page()
    page.goto("/accounts/login/")
    log_in(page, "amara")
    page.wait_for_url(f"{live_server.url}/")
    header = page.locator(".site-header")
    height = header.bounding_box()["height"]
    assert height <= 56, height
    nav = page.get_by_role("navigation", name="Site")
    expect(nav.get_by_role("link", name=re.compile(r"^Notifications \d+ unread$"))).to_be_visible()
    my_questions = nav.get_by_role("link", name="My questions")
    expect(my_questions).to_be_hidden()
    nav.get_by_text("Menu").click()
    expect(my_questions).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    assert horizontal_overflow(page) == 0
    if java_script:
        assert small_controls(page) == []
        screenshot(page, "phone-menu-open")
        # Escape closes it and returns to the Menu line.
        page.keyboard.press("Escape")
        expect(my_questions).to_be_hidden()
    my_questions_count = page.locator(".site-nav a[href='/questions/']").count()
    assert my_questions_count == 2  # the wide row's and the menu's: one shown at a time
    # Log out submits the page's post-action form (the header itself holds no token).
    if java_script:
        nav.get_by_text("Menu").click()
    nav.get_by_role("button", name="Log out").click()
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    expect(nav.get_by_text("Menu")).to_have_count(0)


def test_desktop_header_shows_every_link_in_one_row(new_context, live_server, circle, log_in):
    page = new_context(viewport=DESKTOP).new_page()
    page.goto("/accounts/login/")
    log_in(page, "amara")
    page.wait_for_url(f"{live_server.url}/")
    nav = page.get_by_role("navigation", name="Site")
    expect(nav.get_by_role("link", name="My questions")).to_be_visible()
    expect(nav.get_by_text("Menu")).to_be_hidden()
    assert page.locator(".site-header").bounding_box()["height"] <= 56
