"""Story: destructive actions ask first. With JavaScript they ask in a dialog on the page
(static/js/confirm.js): labelled, focus inside it, Escape or the "keep" button cancels and
focus returns to the link, keyboard alone confirms, axe finds nothing with it open, and on a
phone it fits with 44 px targets. Without JavaScript the same link leads to the action's
confirmation page, which confirms just the same. No browser confirm() box anywhere."""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from discussions import services
from discussions.models import Comment, Question
from groups.models import Meeting, Membership
from tests.browser.conftest import MIN_TARGET, PHONE, horizontal_overflow
from tests.factories import make_group, make_user

ESSAY = "/texts/anatomy-of-the-sect/"


# The browser's own confirm() boxes seen (and dismissed): there must be none.
BOXES: list[str] = []


def logged_in_at(context, log_in, username: str, url: str) -> Page:
    page = context.new_page()
    BOXES.clear()
    page.on("dialog", lambda box: (BOXES.append(f"{box.type}: {box.message}"), box.dismiss()))
    page.goto(f"/accounts/login/?next={quote(url)}")
    log_in(page, username)
    page.wait_for_url(f"**{url}")
    return page


def test_deleting_a_comment_asks_in_a_dialog_by_keyboard_alone(
    new_context, circle, log_in, console, assert_accessible, screenshot
):
    amara = Membership.objects.get(group=circle, user__username="amara").user
    passage = circle.text.passages.get(position=3)
    comment = services.comment_create(
        author=amara, group=circle, passage=passage, body="A hasty remark."
    )
    url = f"{ESSAY}3/?group={circle.slug}"
    page = logged_in_at(new_context(), log_in, "amara", url)
    article = page.locator(f"#comment-{comment.pk}")
    delete = article.get_by_role("link", name="Delete", exact=True)

    # Enter on the link opens the dialog; focus is on the safe choice.
    delete.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Delete your comment?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("A hasty remark.")
    keep = dialog.get_by_role("button", name="Keep it")
    expect(keep).to_be_focused()
    assert_accessible(page)
    screenshot(page, "comment-dialog")

    # Escape cancels; focus returns to the link.
    page.keyboard.press("Escape")
    expect(page.locator("dialog")).to_have_count(0)
    expect(delete).to_be_focused()
    # So does "Keep it".
    page.keyboard.press("Enter")
    expect(keep).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("dialog")).to_have_count(0)
    expect(delete).to_be_focused()
    assert Comment.objects.filter(pk=comment.pk).exists()

    # Shift+Tab from "Keep it" reaches "Delete"; Enter deletes, in place (htmx).
    page.keyboard.press("Enter")
    expect(keep).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Delete", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(article).to_have_count(0)
    expect(page.locator("dialog")).to_have_count(0)
    assert Comment.objects.get(pk=comment.pk).is_deleted  # a tombstone, shown nowhere
    assert page.url.endswith(url)  # no page load: the comment went where it was
    # Focus stays in the discussion, not lost to the top of the document.
    assert page.evaluate("document.activeElement.closest('#discussion') !== null")
    assert BOXES == []
    console.assert_clean()


def test_without_javascript_a_comment_is_deleted_on_its_confirmation_page(
    new_context, circle, log_in, console
):
    amara = Membership.objects.get(group=circle, user__username="amara").user
    passage = circle.text.passages.get(position=3)
    comment = services.comment_create(
        author=amara, group=circle, passage=passage, body="A hasty remark."
    )
    url = f"{ESSAY}3/?group={circle.slug}"
    page = logged_in_at(new_context(java_script_enabled=False), log_in, "amara", url)

    page.locator(f"#comment-{comment.pk}").get_by_role("link", name="Delete", exact=True).click()
    page.wait_for_url(f"**/comments/{comment.pk}/delete/")
    expect(page.get_by_role("heading", name="Delete your comment?", level=1)).to_be_visible()
    # "Keep it" leads back, and nothing is deleted.
    page.get_by_role("link", name="Keep it").click()
    page.wait_for_url(f"**{url}#comment-{comment.pk}")
    assert Comment.objects.filter(pk=comment.pk).exists()

    page.locator(f"#comment-{comment.pk}").get_by_role("link", name="Delete", exact=True).click()
    page.get_by_role("main").get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url(f"**{url}#discussion")
    expect(page.get_by_text("Your comment is deleted.")).to_be_visible()
    assert Comment.objects.get(pk=comment.pk).is_deleted  # a tombstone, shown nowhere
    assert BOXES == []
    console.assert_clean()


def test_on_a_phone_deleting_a_question_and_its_answers_asks_in_a_dialog(
    new_context, circle, log_in, console, assert_accessible, screenshot
):
    fatima = Membership.objects.get(group=circle, user__username="fatima").user
    amara = Membership.objects.get(group=circle, user__username="amara").user
    question = services.question_create(
        facilitator=fatima, group=circle, body="What is a sect?", first_position=2, last_position=2
    )
    services.answer_save(author=amara, question=question, body="A closed circle.")
    context = new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = logged_in_at(context, log_in, "fatima", question.get_absolute_url())

    page.get_by_role("link", name="Delete the question").click()
    dialog = page.get_by_role("dialog", name="Delete this question?")
    expect(dialog).to_contain_text("It has 1 answer; they will be deleted with it.")
    # The one thing to fill in comes first; its label is still its own (ids renamed).
    tick = dialog.get_by_label("Yes, delete the question and all its answers")
    expect(tick).to_be_focused()
    assert_accessible(page)
    screenshot(page, "question-dialog-phone")
    assert horizontal_overflow(page) == 0
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    for name in ("Delete the question", "Keep it"):
        target = dialog.get_by_role("button", name=name, exact=True).bounding_box()
        assert (target["width"] >= MIN_TARGET, target["height"] >= MIN_TARGET) == (True, True)

    tick.check()
    dialog.get_by_role("button", name="Delete the question", exact=True).click()
    page.wait_for_url(f"**/groups/{circle.slug}/questions/")
    expect(page.get_by_text("The question is deleted.")).to_be_visible()
    assert not Question.objects.filter(pk=question.pk).exists()
    assert BOXES == []
    console.assert_clean()


@pytest.mark.parametrize("java_script", [True, False])
def test_destructive_group_actions_ask_for_confirmation_first(
    java_script, new_context, essay, log_in, console, assert_accessible
):
    amara = make_user("amara")
    group = make_group(
        essay, facilitator=make_user("fatima"), name="Night readers", members=[amara]
    )
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=3), first_position=1, last_position=2
    )
    day = f"{timezone.localtime(meeting.starts_at):%A %-d %B}"
    old_token = group.invite_token
    page = logged_in_at(
        new_context(java_script_enabled=java_script), log_in, "fatima", group.get_absolute_url()
    )

    def ask(link: str, question: str):
        """Follows the link; returns where the question is asked: a dialog, or a page."""
        page.get_by_text(link, exact=True).click()
        if java_script:
            dialog = page.get_by_role("dialog", name=question)
            expect(dialog).to_be_visible()
            assert_accessible(page)
            return dialog
        expect(page.get_by_role("heading", name=question, level=1)).to_be_visible()
        return page.get_by_role("main")

    # Remove: the link only asks; "Keep amara" (a button in the dialog, a link on the page)
    # changes nothing.
    ask("Remove amara", "Remove amara from Night readers?").get_by_text(
        "Keep amara", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Night readers", level=1)).to_be_visible()
    assert Membership.objects.filter(group=group, user=amara).exists()
    ask("Remove amara", "Remove amara from Night readers?").get_by_role(
        "button", name="Yes, remove amara"
    ).click()
    page.wait_for_url(f"**/groups/{group.slug}/")
    assert not Membership.objects.filter(group=group, user=amara).exists()

    # Cancel a meeting.
    ask(
        f"Cancel meeting of {timezone.localtime(meeting.starts_at):%-d %B}",
        f"Cancel the meeting of {day}?",
    ).get_by_role("button", name="Yes, cancel the meeting").click()
    page.wait_for_url(f"**/groups/{group.slug}/")
    meeting.refresh_from_db()
    assert meeting.cancelled_at is not None

    # A new invitation link, with an expiry chosen in the dialog.
    where = ask("Make a new link", "Make a new invitation link?")
    where.get_by_label("Link expires").fill(
        f"{timezone.localtime() + timedelta(days=2):%Y-%m-%dT%H:%M}"
    )
    where.get_by_role("button", name="Yes, make a new link").click()
    page.wait_for_url(f"**/groups/{group.slug}/")
    group.refresh_from_db()
    assert group.invite_token != old_token
    assert group.invite_expires_at is not None
    expect(page.get_by_text("A new invitation link is ready")).to_be_visible()
    assert re.search(r"/join/", page.get_by_label("Invitation link").input_value())
    assert BOXES == []
    console.assert_clean()


@pytest.mark.parametrize("java_script", [True, False])
def test_leaving_a_group_asks_first(
    java_script, new_context, essay, log_in, console, assert_accessible
):
    amara = make_user("amara")
    group = make_group(
        essay, facilitator=make_user("fatima"), name="Night readers", members=[amara]
    )
    page = logged_in_at(
        new_context(java_script_enabled=java_script), log_in, "amara", group.get_absolute_url()
    )

    def ask():
        page.get_by_text("Leave this group", exact=True).click()
        if java_script:
            dialog = page.get_by_role("dialog", name="Leave Night readers?")
            expect(dialog).to_be_visible()
            assert_accessible(page)
            return dialog
        expect(page.get_by_role("heading", name="Leave Night readers?", level=1)).to_be_visible()
        return page.get_by_role("main")

    ask().get_by_text("Stay in the group", exact=True).click()
    expect(page.get_by_role("heading", name="Night readers", level=1)).to_be_visible()
    assert Membership.objects.filter(group=group, user=amara).exists()

    ask().get_by_role("button", name="Yes, leave the group").click()
    expect(page.get_by_text("You left “Night readers”.")).to_be_visible()
    assert not Membership.objects.filter(group=group, user=amara).exists()
    assert BOXES == []
    console.assert_clean()
