"""Story: a facilitator prepares a meeting, chooses threads for its handout, and the
handout prints on A4 and Letter; the pages fit a phone and a desktop, light and dark."""

from datetime import timedelta

import pypdfium2
from django.utils import timezone
from playwright.sync_api import expect

from discussions import services as discussions
from groups.models import Meeting
from tests.browser.conftest import ARTIFACTS, DESKTOP, PHONE, horizontal_overflow
from tests.factories import make_group, make_user

PAPER = {"A4": (595, 842), "Letter": (612, 792)}  # points


def test_meeting_page_and_handout_print_cleanly(
    new_context, live_server, essay, log_in, assert_accessible, screenshot, console
):
    facilitator, member = make_user("farida"), make_user("milo")
    group = make_group(essay, facilitator=facilitator, members=[member], name="Thursday club")
    meeting = Meeting.objects.create(
        group=group, starts_at=timezone.now() + timedelta(days=2), first_position=2,
        last_position=3, agenda="Start with the levers; then the sect's walls.",
    )  # fmt: skip
    passage = essay.passages.get(position=3)
    thread = discussions.comment_create(
        author=member, group=group, passage=passage, quote="sections",
        body="Why *sections* of the class, and not the whole of it?",
    )  # fmt: skip
    discussions.comment_create(
        author=facilitator, group=group, passage=passage, parent=thread,
        body="Because a class moves unevenly: some parts first.",
    )  # fmt: skip
    question = discussions.question_create(
        facilitator=facilitator, group=group, body="What are the *levers*?",
        first_position=2, last_position=2,
    )  # fmt: skip
    answer = discussions.answer_save(
        author=member, question=question, body="Demands people act on."
    )
    discussions.answer_set_highlighted(facilitator=facilitator, answer=answer, highlighted=True)

    page = new_context().new_page()
    page.goto("/accounts/login/")
    log_in(page, "farida")
    page.goto(meeting.get_absolute_url())
    expect(page.get_by_role("heading", level=1)).to_contain_text("Meeting of")
    expect(page.get_by_text("Demands people act on.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "meeting-desktop")

    page.get_by_role("link", name="Handout to print").click()
    page.get_by_label("Passage 3, milo").check()
    page.get_by_role("button", name="Save the choice").click()
    expect(page.get_by_role("status")).to_contain_text("1 thread on the handout.")
    expect(page.get_by_text("Because a class moves unevenly")).to_be_visible()
    assert_accessible(page)

    for paper, (width, height) in PAPER.items():
        pdf = page.pdf(format=paper, print_background=False)
        document = pypdfium2.PdfDocument(pdf)
        size = document[0].get_size()
        assert abs(size[0] - width) < 2 and abs(size[1] - height) < 2, size
        text = "".join(document[n].get_textpage().get_text_range() for n in range(len(document)))
        assert "Thursday club" in text and "Anatomy of the Sect" in text
        assert "What are the" in text and "Because a class moves unevenly" in text
        assert "Save the choice" not in text and "Back to the meeting" not in text
        ARTIFACTS.mkdir(exist_ok=True)
        for number in range(len(document)):
            image = document[number].render(scale=1.5).to_pil()
            image.save(ARTIFACTS / f"meeting_pages-handout-{paper}-{number + 1}.png")

    for viewport, scheme, name in (
        (PHONE, "light", "phone"),
        (PHONE, "dark", "phone-dark"),
        (DESKTOP, "dark", "desktop-dark"),
    ):
        other = new_context(viewport=viewport, color_scheme=scheme).new_page()
        other.goto("/accounts/login/")
        log_in(other, "milo")
        for url, label in (
            (meeting.get_absolute_url(), "meeting"),
            (meeting.get_absolute_url() + "handout/", "handout"),
        ):
            other.goto(url)
            assert horizontal_overflow(other) == 0, (label, name)
            assert_accessible(other)
            screenshot(other, f"{label}-{name}")
    console.assert_clean()
