"""Story: a facilitator assigns an "answer first" question; a member sees no answers, answers,
and then sees the others."""

import re
from urllib.parse import quote

from playwright.sync_api import Page, expect

from discussions import services
from discussions.models import Question
from tests.factories import make_group, make_user

ESSAY = "/texts/anatomy-of-the-sect/"
QUESTION = "What does Marx mean by **the levers**, here and in passage 4?"
QUESTION_TEXT = "What does Marx mean by the levers, here and in passage 4?"
MILO_ANSWER = "Strikes and elections: whatever moves the class as a mass."
MAYA_ANSWER = "The issues that bring workers into conflict with the state."


def passage_url(group, position: int = 3) -> str:
    return f"{ESSAY}{position}/?group={group.slug}"


def logged_in_page(context, log_in, username: str, url: str) -> Page:
    page = context.new_page()
    page.goto(f"/accounts/login/?next={quote(url)}")
    log_in(page, username)
    page.wait_for_url(f"**{url}")
    return page


def test_answer_first_question_hides_the_others_answers_until_the_member_answers(
    new_context, live_server, essay, console, log_in, assert_accessible, screenshot
):
    fatima, maya, milo = make_user("fatima"), make_user("maya"), make_user("milo")
    group = make_group(essay, facilitator=fatima, name="Thursday circle", members=[maya, milo])

    # Fatima, the facilitator, adds a question from the passage page.
    page_f = logged_in_page(new_context(), log_in, "fatima", passage_url(group))
    questions_f = page_f.locator("#questions")
    expect(questions_f).to_contain_text("No questions on this passage yet.")
    questions_f.get_by_role("link", name="Add a question to this passage").click()
    page_f.wait_for_url(f"**/groups/{group.slug}/questions/new/?passage=3")
    expect(page_f.get_by_role("heading", level=1)).to_have_text("Add a reading question")
    expect(page_f.get_by_label("On passage")).to_have_value("3")
    expect(page_f.get_by_label("to passage")).to_have_value("3")
    assert_accessible(page_f)
    page_f.get_by_label("Question").fill(QUESTION)
    page_f.get_by_label("to passage").fill("4")
    answer_first = page_f.get_by_label("Members answer before they see others' answers")
    expect(answer_first).not_to_be_checked()
    answer_first.check()
    screenshot(page_f, "question-form")
    page_f.get_by_role("button", name="Assign the question").click()

    question = Question.objects.get()
    assert (question.first_position, question.last_position, question.answer_first) == (3, 4, True)
    page_f.wait_for_url(f"{live_server.url}/groups/{group.slug}/questions/{question.pk}/")
    expect(page_f.locator(".messages")).to_have_text("Question assigned to passages 3 to 4.")
    expect(page_f.get_by_role("heading", level=1)).to_have_text("A question on passages 3 to 4")
    expect(page_f.locator(".question-body")).to_have_text(QUESTION_TEXT)
    expect(page_f.locator(".question-body strong")).to_have_text("the levers")
    expect(page_f.locator(".question-meta")).to_contain_text("answer first to see the others")

    # Milo answers before Maya looks.
    services.answer_save(author=milo, question=question, body=MILO_ANSWER)

    # Maya sees the question on passage 3 but not Milo's answer, not even in the page source.
    page_m = logged_in_page(new_context(), log_in, "maya", passage_url(group))
    block = page_m.locator(f"#question-{question.pk}")
    expect(block.locator(".question-body")).to_have_text(QUESTION_TEXT)
    expect(block.locator(".question-state")).to_have_text("Not answered yet")
    expect(block.locator(".question-meta")).to_contain_text("Passages 3 to 4")
    expect(block.locator(".answers-locked")).to_have_text(
        "1 member answered. Post your answer to see theirs."
    )
    expect(block.locator(".answers .comment")).to_have_count(0)
    assert MILO_ANSWER not in page_m.content()
    assert_accessible(page_m)
    screenshot(page_m, "passage-question-locked")

    # She answers in place.
    page_m.evaluate("window.__marker = 'same document'")
    # Beside the passage the form is one line that opens.
    expect(block.get_by_label("Your answer")).to_be_hidden()
    block.get_by_text("Answer this question", exact=True).click()
    block.get_by_label("Your answer").fill(MAYA_ANSWER)
    with page_m.expect_response(re.compile(rf"/questions/{question.pk}/answer/$")) as answered:
        block.get_by_role("button", name="Post answer").click()
    assert answered.value.status == 200
    assert answered.value.request.header_value("HX-Request") == "true"
    expect(block.locator(".question-state")).to_have_text("Answered")
    expect(block.locator(".answers-locked")).to_have_count(0)
    expect(block.locator(".answers .comment .comment-meta strong")).to_have_text(["milo", "maya"])
    expect(block.locator(".answers .comment .comment-body")).to_have_text(
        [MILO_ANSWER, MAYA_ANSWER]
    )
    # The answer shows once, as posted, with "Edit"; not again in a filled edit box.
    expect(block.get_by_label("Edit your answer")).to_have_count(0)
    expect(block.get_by_text(MAYA_ANSWER)).to_have_count(1)
    expect(
        block.locator(".answers .comment-self.is-own").get_by_role("link", name="Edit")
    ).to_be_visible()
    expect(block.get_by_role("link", name="2 answers")).to_be_visible()
    assert page_m.evaluate("window.__marker") == "same document", "the page was reloaded"
    assert page_m.url == f"{live_server.url}{passage_url(group)}"
    assert_accessible(page_m)
    screenshot(page_m, "passage-question-answered")

    # Fatima sees who has answered.
    page_f.reload()
    overview = page_f.locator("section", has=page_f.get_by_role("heading", name="Who has answered"))
    rows = overview.locator("tbody tr")
    expect(rows.locator("th")).to_have_text(["maya", "milo"])
    expect(rows.locator("td")).to_have_text([re.compile(r"^Answered "), re.compile(r"^Answered ")])
    expect(page_f.locator(f"#question-{question.pk} .answers .comment")).to_have_count(2)
    assert_accessible(page_f)
    screenshot(page_f, "question-detail-facilitator")

    # Maya's own question page, and "My questions", list it as answered.
    page_m.goto(question.get_absolute_url())
    expect(page_m.get_by_role("heading", level=1)).to_have_text("A question on passages 3 to 4")
    expect(page_m.get_by_role("heading", name="Who has answered")).to_have_count(0)
    expect(page_m.locator(f"#question-{question.pk} .answers .comment")).to_have_count(2)
    assert_accessible(page_m)

    page_m.get_by_role("navigation", name="Site").get_by_role("link", name="My questions").click()
    page_m.wait_for_url("**/questions/")
    expect(page_m.get_by_role("heading", level=1)).to_have_text("My questions")
    answered_section = page_m.get_by_role("region", name=re.compile(r"^Answered"))
    expect(answered_section.get_by_role("heading")).to_have_text("Answered (1)")
    expect(answered_section.get_by_role("listitem")).to_have_count(1)
    expect(answered_section.get_by_role("link")).to_have_text(QUESTION_TEXT)
    expect(answered_section.get_by_role("link")).to_have_attribute(
        "href", question.get_absolute_url()
    )
    expect(answered_section.get_by_role("listitem")).to_contain_text(
        "Thursday circle · passages 3 to 4"
    )
    expect(
        page_m.get_by_role("region", name=re.compile(r"^(Open|Overdue|Due soon)"))
    ).to_have_count(0)
    assert_accessible(page_m)
    screenshot(page_m, "my-questions")

    console.assert_clean()
