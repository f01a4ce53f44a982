"""Story: a member downloads the group's discussion from the group page; the facilitator
also downloads the whole group's backup."""

import json
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import Page, expect

from discussions.services import comment_create
from tests.factories import make_group, make_user


def _download(page: Page, link_name: str) -> tuple[str, str]:
    section = page.get_by_role("region", name="Export")
    with page.expect_download() as info:
        section.get_by_role("link", name=link_name).click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def test_member_and_facilitator_download_exports_from_the_group_page(
    new_context, essay, console, log_in, assert_accessible
):
    ada, ben = make_user("ada"), make_user("ben")
    group = make_group(essay, facilitator=ada, name="Thursday circle", members=[ben])
    comment_create(
        author=ben, group=group, passage=essay.passages.get(position=1), body="A first thought."
    )
    today = f"{timezone.localdate():%Y-%m-%d}"

    page = new_context().new_page()
    page.goto("/accounts/login/")
    log_in(page, "ben")
    page.wait_for_url("**/")
    page.goto(group.get_absolute_url())
    section = page.get_by_role("region", name="Export")
    expect(section.get_by_role("link", name="JSON")).to_have_count(0)
    assert_accessible(page)
    name, text = _download(page, "Markdown")
    assert name == f"{group.slug}-discussion-{today}.md"
    assert "> **ben** wrote on " in text and "A first thought." in text
    name, text = _download(page, "CSV (a spreadsheet)")
    assert name == f"{group.slug}-discussion-{today}.csv"
    assert "A first thought." in text

    page = new_context().new_page()
    page.goto("/accounts/login/")
    log_in(page, "ada")
    page.wait_for_url("**/")
    page.goto(group.get_absolute_url())
    assert_accessible(page)
    name, text = _download(page, "JSON")
    assert name == f"{group.slug}-backup-v1-{today}.json"
    backup = json.loads(text)
    assert [m["username"] for m in backup["members"]] == ["ada", "ben"]
    console.assert_clean()
