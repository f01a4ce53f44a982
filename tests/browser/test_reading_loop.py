"""Story: the daily loop at 1280 and 360 pixels. A member selects words (mouse on a laptop,
a touch-screen selection on a phone), a small "Comment" button appears at the selection
inside the viewport, the composer opens with the quote, and the posted comment's phrase is
highlighted at once; the highlight and the comment lead to each other. Others' new comments
wait behind "N new comments: show". The discussion follows the passage on a phone (with a
jump link) and sits beside it, the passage in view, on a wide screen."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from discussions import services
from reading.models import Passage
from tests.browser.conftest import DESKTOP, MIN_TARGET, PHONE, horizontal_overflow

ESSAY = "/texts/anatomy-of-the-sect/"
POSITION = 3
PHRASE = "organizational walls"
LIVE_TIMEOUT_MS = 5_000
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def context_options(size: str, dark: bool = False) -> dict:
    options = {"viewport": SIZES[size], "color_scheme": "dark" if dark else "light"}
    if size == "phone":
        options.update(has_touch=True, is_mobile=True, device_scale_factor=2)
    return options


def passage_url(group) -> str:
    return f"{ESSAY}{POSITION}/?group={group.slug}"


def open_passage(context, log_in, username: str, group) -> Page:
    page = context.new_page()
    page.goto(f"/accounts/login/?next={quote(passage_url(group))}")
    log_in(page, username)
    page.wait_for_url(f"**{passage_url(group)}")
    return page


def select_phrase(page: Page, phrase: str, size: str) -> dict:
    """Selects `phrase` in the passage (dragging the mouse on a laptop; on a phone, as the
    native handles leave it: a selection range) and returns its box in the viewport."""
    box = page.evaluate(
        """(phrase) => {
          const text = document.querySelector("#passage-text").firstChild;
          const start = text.data.indexOf(phrase);
          const range = document.createRange();
          range.setStart(text, start);
          range.setEnd(text, start + phrase.length);
          range.startContainer.parentElement.scrollIntoView({block: "center"});
          const rects = range.getClientRects();
          const first = rects[0], last = rects[rects.length - 1];
          return {x1: first.left + 1, y1: first.top + first.height / 2,
                  x2: last.right - 1, y2: last.top + last.height / 2,
                  top: first.top, bottom: last.bottom, left: first.left, right: last.right};
        }""",
        phrase,
    )
    if size == "desktop":
        page.mouse.move(box["x1"], box["y1"])
        page.mouse.down()
        page.mouse.move(box["x2"], box["y2"], steps=5)
        page.mouse.up()
    else:
        page.touchscreen.tap(box["x1"], box["y1"])  # a touch first, as a finger does
        page.evaluate(
            """(phrase) => {
              const text = document.querySelector("#passage-text").firstChild;
              const start = text.data.indexOf(phrase);
              getSelection().setBaseAndExtent(text, start, text, start + phrase.length);
            }""",
            phrase,
        )
    assert page.evaluate("getSelection().toString()") == phrase
    return box


def box_of(page: Page, selector: str) -> dict:
    return page.evaluate(
        """(selector) => {
          const r = document.querySelector(selector).getBoundingClientRect();
          return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
                  width: r.width, height: r.height,
                  innerWidth: window.innerWidth, innerHeight: window.innerHeight};
        }""",
        selector,
    )


def small_targets(page: Page, selector: str) -> list[str]:
    """Visible elements matching `selector` less than 44 px in either dimension."""
    return page.evaluate(
        """([selector, min]) => [...document.querySelectorAll(selector)]
          .filter((el) => el.getClientRects().length)
          .map((el) => [el, el.getBoundingClientRect()])
          .filter(([el, r]) => r.width < min || r.height < min)
          .map(([el, r]) => `${el.outerHTML.slice(0, 60)}: ${Math.round(r.width)}x${Math.round(r.height)}`)""",
        [selector, MIN_TARGET],
    )


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_comment_button_appears_at_the_selection_and_the_highlight_at_once(
    size, dark, new_context, live_server, circle, console, log_in, assert_accessible, screenshot
):
    page = open_passage(new_context(**context_options(size, dark)), log_in, "amara", circle)
    button = page.get_by_role("button", name="Comment on selection")
    expect(button).to_be_hidden()

    selection = select_phrase(page, PHRASE, size)
    expect(button).to_be_visible()
    expect(button).to_have_text("Comment on selection")  # "Comment", the rest for screen readers
    placed = box_of(page, "#quote-button")
    # Inside the viewport ...
    assert placed["left"] >= 0 and placed["right"] <= placed["innerWidth"], placed
    assert placed["top"] >= 0 and placed["bottom"] <= placed["innerHeight"], placed
    # ... right at the selection: just below its last line (below the touch handles on a
    # phone), and across its end horizontally.
    gap = placed["top"] - selection["bottom"]
    assert 0 <= gap <= (40 if size == "phone" else 12), (gap, placed, selection)
    assert placed["left"] - 1 <= selection["right"] <= placed["right"] + 1 or (
        placed["right"] >= placed["innerWidth"] - 10
    ), (placed, selection)
    assert placed["height"] >= MIN_TARGET and placed["width"] >= MIN_TARGET
    scheme = "dark" if dark else "light"
    screenshot(page, f"selection-{size}-{scheme}")

    # Keyboard: Tab from the selected words reaches the button; Enter opens the composer.
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    composer = page.locator("#composer")
    expect(composer).to_have_attribute("open", "")
    form = page.locator("#comment-form")
    expect(form.get_by_label("Quote from the passage")).to_have_value(PHRASE)
    body = Passage.objects.get(text=circle.text, position=POSITION).body
    expect(form.locator("[name=quote_start]")).to_have_value(str(body.index(PHRASE)))
    comment_box = form.get_by_label("Your comment")
    expect(comment_box).to_be_focused()
    expect(comment_box).to_be_in_viewport()
    assert_accessible(page)
    page.keyboard.type("Walls between them and the class.")
    with page.expect_response(re.compile(r"/comments/$")) as posted:
        form.get_by_role("button", name="Post comment").click()
    assert posted.value.status == 200
    comment = circle.comments.get(body="Walls between them and the class.")

    # The highlight is there at once; the new comment is shown, focused, marked as mine.
    mark = page.locator(f"#quote-{comment.pk}")
    expect(mark).to_have_text(PHRASE)
    article = page.locator(f"#comment-{comment.pk}")
    expect(article).to_be_focused()
    expect(article).to_be_in_viewport()
    expect(article.locator(".badge-own")).to_have_text("you")
    expect(page.locator("#comment-count")).to_have_text("(1 comment)")
    expect(page.locator("#jump-count")).to_have_text("1 comment")  # the phone's jump link
    expect(composer).not_to_have_attribute("open", "")
    expect(page.get_by_text("Add a comment", exact=True)).to_be_visible()

    # The highlight leads to its comment, and the comment's quote back to the highlight.
    page.evaluate("window.scrollTo(0, 0)")
    mark.get_by_role("link", name=PHRASE).click()
    expect(article).to_be_focused()
    expect(article).to_be_in_viewport()
    article.locator(".comment-quote a").click()
    expect(mark.get_by_role("link", name=PHRASE)).to_be_focused()
    expect(mark).to_be_in_viewport()
    assert "is-flash" in (mark.get_attribute("class") or "")
    assert_accessible(page)
    screenshot(page, f"posted-{size}-{scheme}")
    assert horizontal_overflow(page) == 0
    console.assert_clean()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_others_new_comments_wait_behind_a_show_button_at_the_top(
    size, new_context, live_server, circle, settings, console, log_in, assert_accessible
):
    settings.DISCUSSION_POLL_SECONDS = 1
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    fatima = circle.memberships.get(user__username="fatima").user
    first = services.comment_create(author=fatima, group=circle, passage=passage, body="First.")
    page = open_passage(new_context(**context_options(size)), log_in, "amara", circle)
    page.locator(f"#comment-{first.pk}").scroll_into_view_if_needed()

    bruno = circle.memberships.get(user__username="bruno").user
    second = services.comment_create(
        author=bruno,
        group=circle,
        passage=passage,
        body="Second.",
        quote=PHRASE,
        quote_start=passage.body.index(PHRASE),
    )
    services.comment_create(
        author=bruno, group=circle, passage=passage, body="A reply.", parent=first
    )
    show = page.get_by_role("button", name="2 new comments: show")
    expect(show).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(show).to_be_in_viewport()
    expect(page.locator("#discussion-status")).to_have_text("2 new comments.")
    expect(page.get_by_text("Second.")).to_be_hidden()
    assert_accessible(page)

    show.click()
    expect(page.locator("#threads > .comment .comment-body").last).to_have_text("Second.")
    expect(page.locator(f"#replies-{first.pk} .comment-body")).to_have_text("A reply.")
    expect(page.locator("#threads .pending-comment")).to_have_count(0)
    expect(show).to_be_hidden()
    # Bruno's quote is highlighted in the passage too, without a reload.
    expect(page.locator(f"#quote-{second.pk}")).to_have_text(PHRASE)
    console.assert_clean()


def test_wide_screen_keeps_the_passage_in_view_beside_a_long_discussion(
    new_context, live_server, circle, log_in, screenshot
):
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    fatima = circle.memberships.get(user__username="fatima").user
    for number in range(1, 16):
        services.comment_create(
            author=fatima, group=circle, passage=passage, body=f"Thought {number}.\n\nMore."
        )
    page = open_passage(new_context(viewport=DESKTOP), log_in, "amara", circle)
    # Threads first: the first comment is near the top of the discussion column, with the
    # composer folded to one line after the threads.
    first = box_of(page, "#threads > .comment")
    assert (
        first["top"]
        < page.evaluate("document.querySelector('#discussion').getBoundingClientRect().top") + 120
    )
    composer = box_of(page, ".composer-summary")
    assert composer["height"] < 60
    page.get_by_text("Thought 15.").scroll_into_view_if_needed()
    expect(page.get_by_text("Thought 15.")).to_be_in_viewport()
    expect(page.locator("#passage-text")).to_be_in_viewport()
    screenshot(page, "wide-scrolled")


def test_phone_jump_link_leads_from_the_passage_to_the_discussion(
    new_context, live_server, circle, log_in, assert_accessible
):
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    fatima = circle.memberships.get(user__username="fatima").user
    services.comment_create(author=fatima, group=circle, passage=passage, body="Hello.")
    services.comment_create(author=fatima, group=circle, passage=passage, body="Again.")
    page = open_passage(new_context(**context_options("phone")), log_in, "amara", circle)
    jump = page.get_by_role("link", name="2 comments on this passage")
    expect(jump).to_be_in_viewport()
    assert small_targets(page, "#jump-to-discussion") == []
    jump.click()
    expect(page.locator("#discussion-heading")).to_be_in_viewport()
    assert_accessible(page)
