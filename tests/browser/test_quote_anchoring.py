"""Story: a member selects a phrase after an emoji and across a double space, posts a
comment on it, and sees exactly those words highlighted (positions in code points,
converted from the browser's UTF-16 offsets; the stored spacing kept)."""

import re

from playwright.sync_api import expect

from discussions.models import Comment
from reading.services import text_import
from tests.factories import make_group, make_user

BODY = (
    "\U0001f600 Voters drift toward the political center  every decade, and then "
    "the political center  moves with them."
)


def test_selection_after_emoji_and_across_double_space_is_anchored_on_its_words(
    page, live_server, log_in, console
):
    text = text_import(source=f"Centers\n\n{BODY}\n", author="Tester").text
    make_group(text, name="Centrists", members=[make_user("amara")])
    page.goto("/accounts/login/?next=/texts/centers/1/")
    log_in(page, "amara")
    page.wait_for_url("**/texts/centers/1/")
    phrase = "political center  moves"
    second = BODY.index(phrase)

    page.evaluate(
        """([phrase]) => {
          const text = document.querySelector("#passage-body p").firstChild;
          const start = text.data.indexOf(phrase);
          const range = document.createRange();
          range.setStart(text, start);
          range.setEnd(text, start + phrase.length);
          const selection = getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
        }""",
        [phrase],
    )
    button = page.get_by_role("button", name="Comment on selection")
    expect(button).to_be_visible()
    button.click()
    form = page.locator("#comment-form")
    # Code points: the emoji counts 1 (the browser's own offset would be second + 1).
    expect(form.locator("[name=quote_start]")).to_have_value(str(second))
    form.get_by_label("Your comment").fill("Which center?")
    with page.expect_response(re.compile(r"/comments/$")):
        form.get_by_role("button", name="Post comment").click()

    comment = Comment.objects.get(body="Which center?")
    assert (comment.quote_exact, comment.quote_start) == (phrase, second)
    mark = page.locator(f"#quote-{comment.pk}")
    page.reload()
    expect(mark).to_be_visible()
    assert (
        page.evaluate("(id) => document.getElementById(id).textContent", f"quote-{comment.pk}")
        == phrase
    )
    # The highlight is on the second occurrence, after "and then the".
    before = page.evaluate(
        """(id) => {
          const range = document.createRange();
          const body = document.querySelector("#passage-body p");
          range.setStart(body, 0);
          range.setEndBefore(document.getElementById(id));
          return range.toString();
        }""",
        f"quote-{comment.pk}",
    )
    assert before == BODY[:second]
    console.assert_clean()


def test_author_reattaches_a_detached_quote_by_selecting_new_words(
    page, live_server, log_in, console, assert_accessible
):
    from discussions.services import comment_create
    from reading.services import text_revise

    text = text_import(source=f"Centers\n\n{BODY}\n", author="Tester").text
    amara = make_user("amara")
    group = make_group(text, name="Centrists", members=[amara])
    comment = comment_create(
        author=amara, group=group, passage=text.passages.get(), body="Drift?",
        quote="Voters drift toward",
    )  # fmt: skip
    text_revise(
        text=text, source=f"Centers\n\n{BODY.replace('Voters drift toward', 'Citizens lean to')}\n"
    )
    page.goto("/accounts/login/?next=/texts/centers/1/")
    log_in(page, "amara")
    page.wait_for_url("**/texts/centers/1/")

    page.get_by_role("link", name="Re-attach to new words").click()
    form = page.locator(f"#reattach-form-{comment.pk}")
    expect(form).to_be_visible()
    assert_accessible(page)
    page.evaluate(
        """() => {
          const text = document.querySelector("#passage-body p").firstChild;
          const start = text.data.indexOf("Citizens lean");
          const range = document.createRange();
          range.setStart(text, start);
          range.setEnd(text, start + "Citizens lean".length);
          getSelection().removeAllRanges();
          getSelection().addRange(range);
        }"""
    )
    page.get_by_role("button", name="Use these words for the quote").click()
    expect(form.locator("[name=quote]")).to_have_value("Citizens lean")
    form.get_by_role("button", name="Re-attach").click()

    expect(page.locator(f"#quote-{comment.pk}")).to_have_text("Citizens lean")
    expect(page.get_by_text("Re-attached to these words on")).to_be_visible()
    console.assert_clean()
