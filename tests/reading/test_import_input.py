"""Every bad input to the importer gets a clear error and changes nothing; odd but
valid input (CRLF, BOM, Latin-1, form feeds, non-breaking spaces) reads right."""

import pytest
from django.core.management import CommandError, call_command

from reading.importing import parse_text
from reading.models import Passage, Revision, Text


def snapshot():
    return (
        list(Text.objects.values_list("pk", "title", "author", "slug")),
        list(Passage.everything.values_list("pk", "position", "body")),
        Revision.objects.count(),
    )


def run(tmp_path, data: bytes, **options) -> str:
    path = tmp_path / "input.txt"
    path.write_bytes(data)
    with pytest.raises(CommandError) as excinfo:
        call_command("import_text", str(path), **options)
    return str(excinfo.value)


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (
            b"Title\n\nBody.\n",
            {"slug": "bad slug/x"},
            "“bad slug/x” is not a valid slug: use letters, numbers, hyphens or underscores.",
        ),
        (
            b"Title\n\nBody.\n",
            {"title": "T" * 201},
            "The title is 201 characters long; at most 200 fit.",
        ),
        (
            b"Title\n\nBody.\n",
            {"author": "A" * 201},
            "The author is 201 characters long; at most 200 fit.",
        ),
        (
            b"Title\n\nBody.\n",
            {"slug": "s" * 101},
            "The slug is 101 characters long; at most 100 fit.",
        ),
        (
            b"Title\n\nBody with a \x00 NUL.\n",
            {},
            "The file contains NUL bytes: it looks like a binary file, or text in UTF-16 "
            "without a byte order mark (pass --encoding utf-16).",
        ),
        (
            "Titre\n\nCaf\u00e9 cr\u00e8me.\n".encode("latin-1"),
            {},
            "The file is not valid UTF-8: byte 0xe9 at offset 10 cannot be decoded. Pass its "
            "encoding, for example --encoding latin-1 or --encoding cp1252.",
        ),
        (b"", {}, "The file has no text in it."),
        (b"\n \t\n\x0c\n", {}, "The file has no text in it."),
        (b"Only a title\n", {}, "The file has a title but no passages."),
        (
            b"\x7fELF\x02\x01\x01\x00binary",
            {},
            "The file contains NUL bytes: it looks like a binary file, or text in UTF-16 "
            "without a byte order mark (pass --encoding utf-16).",
        ),
        (
            b"Title\n\n\x1b[31mcoloured\x01\n",
            {},
            "The file contains a control character (U+001B) on line 3. Is it a binary file?",
        ),
        (
            "Title\n\nIt\u2019s here.\n".encode("cp1252"),
            {"encoding": "latin-1"},
            "The file contains a control character (U+0092) on line 3. It may be "
            "Windows-1252 text read as Latin-1: try --encoding cp1252.",
        ),
        (
            b"Title\n\nBody.\n",
            {"encoding": "klingon"},
            "Unknown encoding “klingon”: try one of utf-8, latin-1, cp1252, utf-16.",
        ),
        (
            b"Title\n\nBody.\n",
            {"revise": "no-such-text"},
            "There is no text at /texts/no-such-text/ to revise.",
        ),
    ],
)
def test_import_text_bad_input_is_refused_and_changes_nothing(
    essay, tmp_path, data, options, message
):
    before = snapshot()

    assert run(tmp_path, data, **options) == message
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Caf\u00e9\n\nCr\u00e8me br\u00fbl\u00e9e.\n".encode("latin-1"), "latin-1"),
        ("Caf\u00e9\n\nCr\u00e8me br\u00fbl\u00e9e.\n".encode("cp1252"), "cp1252"),
        ("Caf\u00e9\n\nCr\u00e8me br\u00fbl\u00e9e.\n".encode("utf-16"), "utf-16"),
        ("Caf\u00e9\n\nCr\u00e8me br\u00fbl\u00e9e.\n".encode("utf-16"), "utf-8"),  # BOM wins
        (b"\xef\xbb\xbfCaf\xc3\xa9\r\n\r\nCr\xc3\xa8me br\xc3\xbbl\xc3\xa9e.\r\n", "utf-8"),
    ],
)
def test_import_text_encodings(db, tmp_path, data, encoding):
    path = tmp_path / "input.txt"
    path.write_bytes(data)

    call_command("import_text", str(path), encoding=encoding)

    text = Text.objects.get()
    assert (text.title, text.slug) == ("Café", "cafe")
    assert list(text.passages.values_list("body", flat=True)) == ["Crème brûlée."]


@pytest.mark.parametrize(
    "separator", ["\n\n", "\n  \t\n", "\n\u00a0\u00a0\n", "\n\x0c\n", "\r\n\x0c\r\n", "\n\u3000\n"]
)
def test_parse_text_blank_lines_of_any_whitespace_separate_passages(separator):
    parsed = parse_text(f"Title\n\nFirst one.{separator}Second one.\n")

    assert parsed.passages == ["First one.", "Second one."]


def test_parse_text_joins_a_word_broken_by_a_hyphen_without_a_space():
    parsed = parse_text("Title\n\nwithin cannon-\nshot of the walls -- \nand beyond\n")

    assert parsed.passages == ["within cannon-shot of the walls -- and beyond"]


def test_parse_text_keeps_double_spaces_inside_lines():
    parsed = parse_text("Title\n\nA  devil's\tdictionary.\n")

    assert parsed.passages == ["A  devil's\tdictionary."]


def test_import_text_dry_run_of_a_new_text_changes_nothing(essay, tmp_path, capsys):
    before = snapshot()
    path = tmp_path / "new.txt"
    path.write_bytes(b"A New Essay\n\nFirst.\n\nSecond.\n")

    call_command("import_text", str(path), dry_run=True)

    assert capsys.readouterr().out == (
        "“A New Essay” (/texts/a-new-essay/): 2 passages to add. Dry run: nothing changed.\n"
    )
    assert snapshot() == before
