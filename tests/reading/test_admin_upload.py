"""Staff import and revise texts in the admin by uploading a file, with a preview first."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from reading.models import Passage, PassageVersion, Revision, Text
from reading.services import SHIPPED_ESSAY, text_revise
from tests.factories import make_user

IMPORT_URL = "/admin/reading/text/import/"


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_user("editor", is_staff=True, is_superuser=True))
    return client


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/plain")


def snapshot():
    return (
        list(Text.objects.values_list("pk", "title", "slug").order_by("pk")),
        list(Passage.everything.values_list("pk", "position", "body").order_by("pk")),
        Revision.objects.count(),
        PassageVersion.objects.count(),
    )


def confirm_fields(response) -> dict:
    """The hidden fields of the preview's confirmation form, as a browser sends them."""
    html = response.content.decode()
    form = html[html.index('name="confirm"') - 20_000 :].split("<form", 1)[-1]
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
    fields.pop("csrfmiddlewaretoken", None)
    assert form
    return {**fields, "confirm": "Confirm"}


def test_add_text_goes_to_the_upload(staff_client):
    assertRedirects(staff_client.get("/admin/reading/text/add/"), IMPORT_URL)


def test_import_previews_then_confirms(staff_client):
    before = snapshot()
    data = b"A Short Essay\n\nThe first passage.\n\nThe second passage.\n"

    preview = staff_client.post(IMPORT_URL, {"file": upload("s.txt", data), "encoding": "utf-8"})

    assertContains(preview, "Preview: nothing has changed yet")
    assertContains(preview, "A new text with 2 passages.")
    assertContains(preview, "The second passage.")
    assert snapshot() == before

    done = staff_client.post(IMPORT_URL, confirm_fields(preview))

    text = Text.objects.get(slug="a-short-essay")
    assertRedirects(done, f"/admin/reading/text/{text.pk}/change/")
    assert list(text.passages.values_list("body", flat=True)) == [
        "The first passage.",
        "The second passage.",
    ]


def test_import_of_latin_1_with_the_encoding_chosen(staff_client):
    data = "Café\n\nCrème brûlée.\n".encode("latin-1")
    preview = staff_client.post(IMPORT_URL, {"file": upload("c.txt", data), "encoding": "latin-1"})

    staff_client.post(IMPORT_URL, confirm_fields(preview))

    assert Text.objects.get(slug="cafe").passages.get().body == "Crème brûlée."


@pytest.mark.parametrize(
    ("data", "extra", "message"),
    [
        (b"Title\n\nA \x00 byte.\n", {}, "The file contains NUL bytes"),
        (b"Caf\xe9\n\nBody.\n", {}, "The file is not valid UTF-8: byte 0xe9 at offset 3"),
        (b"", {}, "The submitted file is empty."),
        (b"Only a title\n", {}, "The file has a title but no passages."),
        (b"Title\n\nBody.\n", {"slug": "bad slug/x"}, "Enter a valid “slug”"),
        (b"Title\n\nBody.\n", {"title": "x" * 201}, "Ensure this value has at most 200"),
        (b"Other\n\nBody.\n", {"slug": "anatomy-of-the-sect"}, "There is already a text at"),
    ],
)
def test_import_bad_files_are_refused_and_change_nothing(staff_client, essay, data, extra, message):
    before = snapshot()

    response = staff_client.post(
        IMPORT_URL, {"file": upload("bad.txt", data), "encoding": "utf-8", **extra}
    )

    assert response.status_code == 200
    assertContains(response, message)
    assertNotContains(response, "Preview: nothing has changed yet")
    assert snapshot() == before


def test_revise_previews_the_plan_then_keeps_passages_identities(staff_client, essay):
    blocks = SHIPPED_ESSAY.read_text(encoding="utf-8").strip().split("\n\n")
    revised = "\n\n".join([*blocks[:3], "A paragraph found in the manuscript.", *blocks[3:]])
    pks = list(essay.passages.order_by("position").values_list("pk", flat=True))
    url = f"/admin/reading/text/{essay.pk}/revise/"
    before = snapshot()

    preview = staff_client.post(
        url, {"file": upload("r.txt", revised.encode()), "encoding": "utf-8"}
    )

    assertContains(preview, "new passage 3: inserted")
    assertContains(preview, "passage 3 → passage 4: unchanged")
    assertContains(preview, "1 inserted, 10 unchanged.")
    assert snapshot() == before

    done = staff_client.post(url, confirm_fields(preview))

    assertRedirects(done, f"/admin/reading/text/{essay.pk}/change/")
    after = list(essay.passages.order_by("position").values_list("pk", flat=True))
    assert after[:2] == pks[:2] and after[3:] == pks[2:]


def test_revise_confirmed_after_the_text_changed_shows_the_new_plan(staff_client, essay):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    url = f"/admin/reading/text/{essay.pk}/revise/"
    preview = staff_client.post(
        url, {"file": upload("r.txt", (source + "\nA coda.\n").encode()), "encoding": "utf-8"}
    )
    text_revise(text=essay, source=source + "\nAn epilogue.\n")
    before = snapshot()

    again = staff_client.post(url, confirm_fields(preview))

    assertContains(again, "The text changed since the preview")
    assertContains(again, "Preview: nothing has changed yet")
    assert snapshot() == before


def test_confirmation_with_a_tampered_file_changes_nothing(staff_client, essay):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    url = f"/admin/reading/text/{essay.pk}/revise/"
    preview = staff_client.post(
        url, {"file": upload("r.txt", (source + "\nA coda.\n").encode()), "encoding": "utf-8"}
    )
    before = snapshot()

    for data in ["not base64 at all!", "AAAA\x00"]:
        response = staff_client.post(url, {**confirm_fields(preview), "data": data}, follow=True)
        assertContains(response, "The file was not sent back intact: upload it again.")
    assert snapshot() == before


def test_passage_words_are_not_editable_in_the_admin(staff_client, essay):
    response = staff_client.get(f"/admin/reading/text/{essay.pk}/change/")

    assertContains(response, "Revise from a file")
    assertContains(response, "10 passages")
    assertNotContains(response, "<textarea")
    assertNotContains(response, 'name="slug"')


def test_upload_needs_the_permission(client, essay):
    staff = make_user("clerk", is_staff=True)
    client.force_login(staff)

    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(f"/admin/reading/text/{essay.pk}/revise/").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="change_text"))
    assert client.get(f"/admin/reading/text/{essay.pk}/revise/").status_code == 200
    assert client.get("/admin/reading/text/999999999999999999999/revise/").status_code == 404


def test_upload_pages_need_staff(client, essay, member):
    client.force_login(member)

    response = client.get(IMPORT_URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
