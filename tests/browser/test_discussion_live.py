"""Story: two members in separate browser contexts; one selects a phrase and comments on it, the
other sees the comment appear without reloading, replies, and the first gets a notification.
Then hostile Markdown stays inert, and the same discussion works without JavaScript."""

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext, Dialog, Page, expect

from discussions import services
from discussions.models import Comment
from groups import throttling
from groups.models import ActionCount
from reading.models import Passage
from tests.browser.conftest import PHONE, horizontal_overflow
from tests.factories import make_group, make_user

ESSAY = "/texts/anatomy-of-the-sect/"
POSITION = 3
PHRASE = "the levers"
# Others' comments arrive by polling; with a 1 s poll they show within a few seconds.
LIVE_TIMEOUT_MS = 5_000


@pytest.fixture
def fast_polling(settings):
    settings.DISCUSSION_POLL_SECONDS = 1


@pytest.fixture
def circle(essay):
    """A group with two members, Amara and Bruno, led by a facilitator."""
    amara, bruno = make_user("amara"), make_user("bruno")
    return make_group(
        essay, facilitator=make_user("fatima"), name="Night readers", members=[amara, bruno]
    )


def passage_url(group) -> str:
    return f"{ESSAY}{POSITION}/?group={group.slug}"


def open_passage(context, log_in, username: str, group) -> Page:
    """Logs in through the form in a fresh page and lands on the group's passage 3."""
    page = context.new_page()
    page.goto(f"/accounts/login/?next={quote(passage_url(group))}")
    log_in(page, username)
    page.wait_for_url(f"**{passage_url(group)}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Passage {POSITION}")
    return page


def watching_dialogs(context: BrowserContext, dialogs: list[str]) -> BrowserContext:
    """Records every alert(), confirm() or prompt() any page of the context opens."""

    def watch(page: Page) -> None:
        def record(dialog: Dialog) -> None:
            dialogs.append(f"{page.url}: {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", record)

    context.on("page", watch)
    return context


def mark_document(page: Page) -> None:
    page.evaluate("window.__marker = 'same document'")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__marker") == "same document", "the page was reloaded"


def drag_select(page: Page, phrase: str) -> None:
    """Selects `phrase` in the passage with the mouse, from its first letter to its last."""
    box = page.evaluate(
        """(phrase) => {
          const text = document.querySelector("#passage-body p").firstChild;
          const start = text.data.indexOf(phrase);
          const range = document.createRange();
          range.setStart(text, start);
          range.setEnd(text, start + phrase.length);
          range.startContainer.parentElement.scrollIntoView({block: "center"});
          const rects = range.getClientRects();
          const first = rects[0], last = rects[rects.length - 1];
          return {x1: first.left + 1, y1: first.top + first.height / 2,
                  x2: last.right - 1, y2: last.top + last.height / 2, lines: rects.length};
        }""",
        phrase,
    )
    assert box["lines"] == 1, f"“{phrase}” wraps; choose a phrase on one line"
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()
    assert page.evaluate("getSelection().toString()") == phrase


def comment_by(author: str, body: str) -> Comment:
    return Comment.objects.get(author__username=author, body=body)


def test_comment_on_a_selection_reaches_the_other_member_live_and_the_reply_notifies(
    new_context, live_server, circle, fast_polling, console, log_in, assert_accessible, screenshot
):
    dialogs: list[str] = []
    page_a = open_passage(watching_dialogs(new_context(), dialogs), log_in, "amara", circle)
    page_b = open_passage(watching_dialogs(new_context(), dialogs), log_in, "bruno", circle)
    for page in (page_a, page_b):
        mark_document(page)
        expect(page.locator("#empty-thread")).to_have_text(
            "No comments yet. Start the conversation."
        )

    # Amara selects a phrase and comments on it.
    quote_button = page_a.get_by_role("button", name="Comment on selection")
    expect(quote_button).to_be_hidden()
    drag_select(page_a, PHRASE)
    expect(quote_button).to_be_visible()
    quote_button.click()
    expect(quote_button).to_be_hidden()
    form_a = page_a.locator("#comment-form")
    expect(form_a.get_by_label("Quote from the passage")).to_have_value(PHRASE)
    body = Passage.objects.get(text__slug="anatomy-of-the-sect", position=POSITION).body
    expect(form_a.locator("[name=quote_start]")).to_have_value(str(body.index(PHRASE)))
    expect(form_a.get_by_label("Your comment")).to_be_focused()
    page_a.keyboard.type("Which levers? The *unions*, I think.")
    with page_a.expect_response(re.compile(r"/comments/$")) as posted:
        form_a.get_by_role("button", name="Post comment").click()
    assert posted.value.status == 200
    assert posted.value.request.header_value("HX-Request") == "true"
    comment = comment_by("amara", "Which levers? The *unions*, I think.")
    assert comment.quote_exact == PHRASE
    assert comment.quote_start == body.index(PHRASE)
    mine_a = page_a.locator(f"#comment-{comment.pk}")
    expect(mine_a.locator(".comment-body")).to_have_text("Which levers? The unions, I think.")
    expect(mine_a.locator(".comment-body em")).to_have_text("unions")
    expect(mine_a.locator(".comment-quote")).to_have_text(f"“{PHRASE}”")
    # The form is empty again for the next comment, and the placeholder is gone.
    expect(form_a.get_by_label("Quote from the passage")).to_have_value("")
    expect(form_a.locator("[name=quote_start]")).to_have_value("")
    expect(form_a.get_by_label("Your comment")).to_have_value("")
    expect(page_a.locator("#empty-thread")).to_be_hidden()
    assert_same_document(page_a)

    # The phrase is highlighted at once, without a reload.
    expect(page_a.locator(f"#quote-{comment.pk}")).to_have_text(PHRASE)

    # Bruno, who has not reloaded, is told it arrived; showing it puts it in place,
    # marked new, with the quote.
    show_b = page_b.get_by_role("button", name="1 new comment: show")
    expect(show_b).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    theirs_b = page_b.locator(f"#threads #comment-{comment.pk}")
    expect(theirs_b).to_be_hidden()
    show_b.click()
    expect(theirs_b).to_be_visible()
    expect(theirs_b).to_be_focused()
    expect(show_b).to_be_hidden()
    expect(theirs_b.locator(".comment-meta strong")).to_have_text("amara")
    expect(theirs_b.locator(".comment-body")).to_have_text("Which levers? The unions, I think.")
    expect(theirs_b.locator(".comment-quote")).to_have_text(f"“{PHRASE}”")
    expect(theirs_b.locator(".badge-new")).to_have_text("new")
    expect(page_b.locator("#discussion-status")).to_have_text("1 new comment.")
    expect(page_b.locator("#empty-thread")).to_be_hidden()
    expect(page_b.locator("#threads > .comment")).to_have_count(1)
    assert_same_document(page_b)
    screenshot(page_b, "comment-arrived")

    # Bruno replies inline.
    theirs_b.get_by_role("link", name="Reply to amara").click()
    reply_box = page_b.get_by_label("Your reply to amara")
    expect(reply_box).to_be_visible()
    expect(reply_box).to_be_focused()
    reply_box.fill("The shop stewards, surely.")
    with page_b.expect_response(re.compile(r"/comments/$")) as replied:
        page_b.get_by_role("button", name="Post reply").click()
    assert replied.value.status == 200
    reply = comment_by("bruno", "The shop stewards, surely.")
    assert reply.parent_id == comment.pk
    expect(page_b.locator(f"#replies-{comment.pk} #comment-{reply.pk} .comment-body")).to_have_text(
        "The shop stewards, surely."
    )
    expect(reply_box).to_have_count(0)
    assert_same_document(page_b)

    # Amara sees the reply arrive under her comment, without reloading.
    page_a.get_by_role("button", name="1 new comment: show").click(timeout=LIVE_TIMEOUT_MS)
    reply_a = page_a.locator(f"#replies-{comment.pk} #comment-{reply.pk}")
    expect(reply_a).to_be_visible()
    expect(reply_a.locator(".comment-body")).to_have_text("The shop stewards, surely.")
    expect(page_a.locator(f"#comment-{reply.pk}")).to_have_count(1)
    assert_same_document(page_a)
    # Bruno's own reply never comes back to him as someone else's.
    expect(page_b.locator(f"#comment-{reply.pk}")).to_have_count(1)
    screenshot(page_a, "reply-arrived")

    # After reloading, Amara has a notification, and the phrase is highlighted.
    page_a.reload()
    notifications_link = page_a.get_by_role("navigation", name="Site").get_by_role(
        "link", name=re.compile(r"^Notifications")
    )
    expect(notifications_link).to_have_text("Notifications 1 unread")
    mark = page_a.locator("#passage-body mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(PHRASE)
    expect(mark).to_have_attribute("id", f"quote-{comment.pk}")
    expect(mark.get_by_role("link", name=PHRASE)).to_have_attribute(
        "href", f"#comment-{comment.pk}"
    )
    assert_accessible(page_a)
    screenshot(page_a, "passage-with-discussion")

    mark.get_by_role("link", name=PHRASE).click()
    page_a.wait_for_url(f"**#comment-{comment.pk}")
    expect(page_a.locator(f"#comment-{comment.pk}")).to_be_in_viewport()
    # ... and the quote in the comment leads back to the phrase.
    page_a.locator(f"#comment-{comment.pk} .comment-quote a").click()
    page_a.wait_for_url(f"**#quote-{comment.pk}")
    expect(mark).to_be_in_viewport()

    notifications_link.click()
    page_a.wait_for_url("**/notifications/")
    item = page_a.locator("li.notification")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(
        "bruno replied to you in Night readers, on passage 3 of Anatomy of the Sect"
    )
    expect(item.locator(".badge-new")).to_have_text("new")
    assert_accessible(page_a)
    screenshot(page_a, "notifications")
    item.get_by_role("link", name="passage 3 of Anatomy of the Sect").click()
    page_a.wait_for_url(f"{live_server.url}{passage_url(circle)}#comment-{reply.pk}")
    expect(page_a.locator(f"#comment-{reply.pk}")).to_be_in_viewport()
    # Opening it marked it read: the header has no count any more.
    expect(notifications_link).to_have_text("Notifications")

    # The reply page (the no-JavaScript way to reply) passes axe too.
    page_b.goto(f"/groups/{circle.slug}/comments/{comment.pk}/reply/")
    expect(page_b.get_by_role("heading", level=1)).to_have_text("Reply")
    expect(page_b.get_by_label("Your reply to amara")).to_be_visible()
    assert_accessible(page_b)
    screenshot(page_b, "reply-page")

    assert dialogs == []
    console.assert_clean()


HOSTILE = "<img src=x onerror=alert(1)> [x](javascript:alert(1)) <script>alert(1)</script>"


def test_hostile_markdown_shows_as_inert_text_here_and_for_the_other_member(
    new_context, live_server, circle, fast_polling, console, log_in, screenshot
):
    dialogs: list[str] = []
    page_a = open_passage(watching_dialogs(new_context(), dialogs), log_in, "amara", circle)
    page_b = open_passage(watching_dialogs(new_context(), dialogs), log_in, "bruno", circle)
    for page in (page_a, page_b):
        mark_document(page)

    page_a.get_by_text("Add a comment", exact=True).click()
    page_a.get_by_label("Your comment").fill(HOSTILE)
    with page_a.expect_response(re.compile(r"/comments/$")) as posted:
        page_a.get_by_role("button", name="Post comment").click()
    assert posted.value.status == 200
    comment = comment_by("amara", HOSTILE)
    page_b.get_by_role("button", name="1 new comment: show").click(timeout=LIVE_TIMEOUT_MS)
    seen_live = page_b.locator(f"#comment-{comment.pk}")
    expect(seen_live).to_be_visible()
    # ... and as a page loaded afresh.
    fresh = open_passage(watching_dialogs(new_context(), dialogs), log_in, "bruno", circle)

    for where, article in (
        ("posted", page_a.locator(f"#comment-{comment.pk}")),
        ("polled", seen_live),
        ("loaded", fresh.locator(f"#comment-{comment.pk}")),
    ):
        body = article.locator(".comment-body")
        expect(body, where).to_have_text(HOSTILE)
        expect(body.locator("img, script, a"), where).to_have_count(0)
    assert_same_document(page_a)
    assert_same_document(page_b)
    screenshot(page_b, "hostile-comment")

    assert dialogs == []
    console.assert_clean()


def test_discussion_without_javascript_quotes_replies_and_marks_helpful(
    new_context, live_server, circle, console, log_in
):
    # Amara has a comment for Bruno to answer and mark.
    passage = Passage.objects.get(text__slug="anatomy-of-the-sect", position=POSITION)
    amara_comment = services.comment_create(
        author=circle.memberships.get(user__username="amara").user,
        group=circle,
        passage=passage,
        body="Accretion never works.",
    )
    page = open_passage(new_context(java_script_enabled=False), log_in, "bruno", circle)
    expect(page.get_by_role("button", name="Comment on selection")).to_have_count(0)

    # A comment on a pasted phrase: a plain post, then a redirect to the comment.
    page.get_by_text("Add a comment", exact=True).click()
    page.get_by_label("Quote from the passage").fill("organizational walls")
    page.get_by_label("Your comment").fill("Walls keep the class out, and the sect in.")
    with page.expect_response(re.compile(r"/comments/$")) as posted:
        page.get_by_role("button", name="Post comment").click()
    comment = comment_by("bruno", "Walls keep the class out, and the sect in.")
    assert posted.value.status == 302
    assert posted.value.header_value("Location") == f"{passage_url(circle)}#comment-{comment.pk}"
    page.wait_for_url(f"**{passage_url(circle)}#comment-{comment.pk}")
    expect(page.locator(".messages")).to_have_text("Your comment is posted.")
    assert comment.quote_exact == "organizational walls"
    assert comment.quote_start == passage.body.index("organizational walls")
    article = page.locator(f"#comment-{comment.pk}")
    expect(article.locator(".comment-quote")).to_have_text("“organizational walls”")
    mark = page.locator("#passage-body mark")
    expect(mark).to_have_text("organizational walls")
    expect(mark.get_by_role("link")).to_have_attribute("href", f"#comment-{comment.pk}")

    # A reply through the reply page.
    theirs = page.locator(f"#comment-{amara_comment.pk}")
    theirs.get_by_role("link", name="Reply to amara").click()
    page.wait_for_url(f"**/groups/{circle.slug}/comments/{amara_comment.pk}/reply/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reply")
    expect(page.locator(".replied-comment")).to_contain_text("Accretion never works.")
    page.get_by_label("Your reply to amara").fill("Nor does unity with two other sects.")
    page.get_by_role("button", name="Post reply").click()
    reply = comment_by("bruno", "Nor does unity with two other sects.")
    assert reply.parent_id == amara_comment.pk
    page.wait_for_url(f"**{passage_url(circle)}#comment-{reply.pk}")
    expect(page.locator(".messages")).to_have_text("Your comment is posted.")
    expect(
        page.locator(f"#replies-{amara_comment.pk} #comment-{reply.pk} .comment-body")
    ).to_have_text("Nor does unity with two other sects.")

    # Marking Amara's comment helpful.
    helpful = theirs.get_by_role("button", name="Helpful (comment by amara)")
    expect(helpful).to_have_attribute("aria-pressed", "false")
    # Quiet by default: no "0 found this helpful".
    expect(
        theirs.locator(":scope > .comment-self > .comment-actions .helpful-count")
    ).to_have_count(0)
    with page.expect_response(re.compile(r"/helpful/$")) as marked:
        helpful.click()
    assert marked.value.status == 302
    page.wait_for_url(f"**{passage_url(circle)}#comment-{amara_comment.pk}")
    helpful = theirs.get_by_role("button", name="Helpful ✓ (comment by amara)")
    expect(helpful).to_have_attribute("aria-pressed", "true")
    expect(theirs.locator(":scope > .comment-self > .comment-actions .helpful-count")).to_have_text(
        "1 found this helpful"
    )

    console.assert_clean()


def test_live_reply_to_a_thread_not_on_the_page_shows_a_reload_notice(
    new_context, live_server, circle, fast_polling, log_in
):
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    fatima = circle.memberships.get(user__username="fatima").user
    threads = [
        services.comment_create(author=fatima, group=circle, passage=passage, body=f"Thread {n}")
        for n in range(1, 23)
    ]
    page = open_passage(new_context(), log_in, "amara", circle)
    notice = page.locator("#discussion-notice")
    expect(notice).to_be_hidden()
    mark_document(page)

    # Only the first 20 threads are on the page; a reply to the 22nd has nowhere to go.
    bruno = circle.memberships.get(user__username="bruno").user
    services.comment_create(
        author=bruno, group=circle, passage=passage, body="Late reply", parent=threads[-1]
    )

    expect(notice).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(notice.get_by_role("link", name="Reload the discussion")).to_be_visible()
    assert_same_document(page)


def test_others_edits_deletions_hides_and_helpful_marks_reach_an_open_page(
    new_context, live_server, circle, fast_polling, log_in, assert_accessible
):
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    people = {m.user.username: m.user for m in circle.memberships.select_related("user")}
    edited, regretted, rude, useful = (
        services.comment_create(author=people["bruno"], group=circle, passage=passage, body=body)
        for body in ("First draft.", "Regretted words.", "Rude words.", "Useful words.")
    )
    page = open_passage(new_context(), log_in, "amara", circle)
    reply_box_opened = page.locator(f"#comment-{useful.pk}").get_by_role("link", name="Reply")
    reply_box_opened.click()
    page.locator(f"#reply-slot-{useful.pk} textarea").fill("Half-written reply")
    mark_document(page)

    services.comment_edit(editor=people["bruno"], comment=edited, body="Second draft.")
    services.comment_delete(user=people["bruno"], comment=regretted)
    services.comment_hide(moderator=people["fatima"], comment=rude, reason="Be kind.")
    services.helpful_set(user=people["fatima"], comment=useful, helpful=True)

    expect(page.locator(f"#comment-{edited.pk} .comment-body")).to_have_text(
        "Second draft.", timeout=LIVE_TIMEOUT_MS
    )
    expect(page.locator(f"#comment-{regretted.pk}")).to_have_count(0)
    expect(page.locator(f"#comment-{rude.pk}")).to_have_count(0)
    expect(page.locator(f"#comment-{useful.pk} .helpful-count")).to_have_text(
        "1 found this helpful"
    )
    expect(page.locator("#comment-count")).to_have_text("(2 comments)")
    # The reply being written is untouched, and nothing claimed a thread was missing.
    expect(page.locator(f"#reply-slot-{useful.pk} textarea")).to_have_value("Half-written reply")
    expect(page.locator("#discussion-notice")).to_be_hidden()
    assert_same_document(page)
    assert_accessible(page)


def test_a_refusal_shows_in_the_alert_until_the_readers_next_action(
    new_context, live_server, circle, log_in
):
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    bruno = circle.memberships.get(user__username="bruno").user
    gone, staying = (
        services.comment_create(author=bruno, group=circle, passage=passage, body=body)
        for body in ("Soon deleted.", "Still here.")
    )
    page = open_passage(new_context(), log_in, "amara", circle)
    # Deleted after the page was read, before the (15 s) poll could take it away.
    services.comment_delete(user=bruno, comment=gone)

    page.locator(f"#comment-{gone.pk}").get_by_role("button", name="Helpful").click()
    alert = page.locator("#site-alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("deleted")

    page.locator(f"#comment-{staying.pk}").get_by_role("button", name="Helpful").click()
    expect(page.locator(f"#comment-{staying.pk} .helpful-count")).to_have_text(
        "1 found this helpful"
    )
    expect(alert).to_be_hidden()


def test_posting_too_fast_without_javascript_gives_the_words_back_to_post_again(
    new_context, live_server, circle, log_in, screenshot
):
    bruno = circle.memberships.get(user__username="bruno").user
    for _ in range(throttling.POSTING.count):  # a minute of posting already
        throttling.throttle(throttling.POSTING, f"user:{bruno.pk}")
    context = new_context(java_script_enabled=False, viewport=PHONE)
    page = open_passage(context, log_in, "bruno", circle)

    page.get_by_text("Add a comment", exact=True).click()
    words = "    indented, as code\n\nand a paragraph."
    page.get_by_label("Your comment").fill(words)
    page.get_by_role("button", name="Post comment").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Slow down a little")
    expect(page.get_by_label("What you wrote")).to_have_value(words)
    assert horizontal_overflow(page) == 0
    screenshot(page, "rate-limited-phone")
    ActionCount.objects.all().delete()  # the minute is over
    page.get_by_role("button", name="Post again").click()

    page.wait_for_url(re.compile(r"#comment-\d+$"))
    comment = Comment.objects.get(author=bruno)
    assert comment.body.replace("\r\n", "\n") == words  # a browser sends CRLF
    page.wait_for_url(f"**{passage_url(circle)}#comment-{comment.pk}")
    expect(page.locator(f"#comment-{comment.pk} .comment-body pre")).to_have_text(
        "indented, as code"
    )


def amara_on_a_comment_by_bruno(new_context, log_in, circle) -> tuple[Page, Comment]:
    """Amara's passage page, with Bruno's comment "Hm." on it."""
    passage = Passage.objects.get(text=circle.text, position=POSITION)
    bruno = circle.memberships.get(user__username="bruno").user
    theirs = services.comment_create(author=bruno, group=circle, passage=passage, body="Hm.")
    return open_passage(new_context(), log_in, "amara", circle), theirs


def test_focus_stays_with_the_reader_through_helpful_reply_and_edit(
    new_context, live_server, circle, log_in
):
    """Keyboard and screen reader users keep their place after each htmx swap."""
    page, theirs = amara_on_a_comment_by_bruno(new_context, log_in, circle)
    article = page.locator(f"#comment-{theirs.pk}")

    helpful = article.get_by_role("button", name="Helpful")
    helpful.focus()
    page.keyboard.press("Enter")
    expect(article.get_by_role("button", name="Helpful ✓")).to_be_focused()

    article.get_by_role("link", name="Reply to bruno").click()
    page.get_by_label("Your reply to bruno").fill("Hm indeed.")
    page.get_by_label("Your reply to bruno").press("Tab")
    page.keyboard.press("Enter")  # "Post reply"
    mine = page.get_by_role("article", name="amara")
    expect(mine).to_be_focused()

    mine.get_by_role("link", name="Edit").click()
    page.get_by_label("Edit your comment").fill("Hm indeed, twice.")
    page.get_by_role("button", name="Save changes").press("Enter")
    expect(mine.locator(".comment-body")).to_have_text("Hm indeed, twice.")
    expect(mine.get_by_role("link", name="Edit")).to_be_focused()  # what opened the form


def test_escape_closes_an_untouched_inline_form_and_keeps_one_with_words(
    new_context, live_server, circle, log_in
):
    page, theirs = amara_on_a_comment_by_bruno(new_context, log_in, circle)
    reply = page.locator(f"#comment-{theirs.pk}").get_by_role("link", name="Reply to bruno")

    reply.click()
    page.get_by_label("Your reply to bruno").press("Escape")
    expect(page.get_by_label("Your reply to bruno")).to_have_count(0)
    expect(reply).to_be_focused()

    reply.click()
    page.get_by_label("Your reply to bruno").fill("Half a thought")
    page.get_by_label("Your reply to bruno").press("Escape")
    expect(page.get_by_label("Your reply to bruno")).to_have_value("Half a thought")
