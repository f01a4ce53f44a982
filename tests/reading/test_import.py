"""Importing plain-text essays: the shipped essay, re-imports, corrections, the command."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from reading.models import Passage, ReadingProgress, Text
from reading.services import SHIPPED_ESSAY, shipped_essay_import, text_import, text_revise
from tests.factories import make_user


def source_paragraphs() -> list[str]:
    """The essay's paragraphs computed straight from the file, independently of the parser:
    blocks are separated by one blank line, the first block is the title, and each
    hard-wrapped line break becomes a single space."""
    blocks = SHIPPED_ESSAY.read_text(encoding="utf-8").strip().split("\n\n")
    return [block.replace("\n", " ") for block in blocks[1:]]


def essay_bodies(text: Text) -> list[str]:
    return list(text.passages.order_by("position").values_list("body", flat=True))


# The shipped essay ------------------------------------------------------------


def test_shipped_essay_import_title_is_anatomy_of_the_sect(db):
    text = shipped_essay_import().text

    assert text.title == "Anatomy of the Sect"
    assert text.slug == "anatomy-of-the-sect"
    assert text.author == "Hal Draper"


def test_shipped_essay_import_creates_ten_passages(db):
    result = shipped_essay_import()

    assert result.created == 10
    assert result.updated == 0
    assert result.unchanged == 0
    assert result.text.passages.count() == 10
    positions = result.text.passages.order_by("position").values_list("position", flat=True)
    assert list(positions) == list(range(1, 11))


def test_shipped_essay_source_has_ten_paragraphs():
    assert len(source_paragraphs()) == 10


def test_shipped_essay_passages_equal_source_paragraphs_with_lines_joined(essay):
    assert essay_bodies(essay) == source_paragraphs()


def test_shipped_essay_passage_one_starts_with_to_sum_up(essay):
    body = essay.passages.get(position=1).body

    assert body.startswith("To sum up: we have seen three approaches so far.")
    assert body.endswith("not merely of two organizational forms.")


def test_shipped_essay_passage_two_ends_mid_sentence_verbatim(essay):
    body = essay.passages.get(position=2).body

    assert body.startswith("The sect establishes itself on a HIGH level")
    assert body.endswith("or perhaps by some process of")


def test_shipped_essay_asterisk_is_kept(essay):
    body = essay.passages.get(position=7).body

    assert "either on the scale of the Lilliputians or of the Brobdingagians*; their" in body


def test_shipped_essay_spaced_hyphen_is_kept(essay):
    body = essay.passages.get(position=8).body

    assert body.startswith("The basic reason for this is the following: The life- principle of a")
    assert "life-principle" in body


def test_shipped_essay_double_hyphen_dash_is_kept(essay):
    assert "by draining all our resources -- this makes us a small" in (
        essay.passages.get(position=6).body
    )
    assert "and what you have in reality is -- tripe." in essay.passages.get(position=9).body


def test_shipped_essay_passages_have_no_line_breaks_or_double_spaces(essay):
    for body in essay_bodies(essay):
        assert "\n" not in body
        assert "  " not in body
        assert body == body.strip()


def test_shipped_essay_word_counts_match_source(essay):
    word_counts = list(essay.passages.order_by("position").values_list("word_count", flat=True))

    assert word_counts == [len(paragraph.split()) for paragraph in source_paragraphs()]


def test_shipped_essay_word_count_of_first_passage(essay):
    passage = essay.passages.get(position=1)

    assert passage.word_count == len(passage.body.split(" "))
    assert passage.word_count == 60


def test_shipped_essay_breaks_off_on_passages_two_eight_and_nine(essay):
    # Counted from the file: passage 2 ends "some process of", passage 8 ends "it",
    # passage 9 ends "in ritual"; passage 7 ends "only a monster." and is complete.
    breaking = [p.position for p in essay.passages.order_by("position") if p.breaks_off]

    assert breaking == [2, 8, 9]


def test_shipped_essay_breaks_off_matches_source_endings(essay):
    ends_in_mid_sentence = [
        position
        for position, paragraph in enumerate(source_paragraphs(), start=1)
        if paragraph[-1] not in '.!?")'
    ]
    breaking = [p.position for p in essay.passages.order_by("position") if p.breaks_off]

    assert breaking == ends_in_mid_sentence


# Re-importing -----------------------------------------------------------------


def test_shipped_essay_reimport_is_idempotent(essay):
    pks_before = list(essay.passages.order_by("position").values_list("pk", flat=True))

    result = shipped_essay_import()

    assert result.text.pk == essay.pk
    assert result.created == 0
    assert result.updated == 0
    assert result.unchanged == 10
    assert list(essay.passages.order_by("position").values_list("pk", flat=True)) == pks_before
    assert Text.objects.count() == 1
    assert Passage.objects.count() == 10


def test_text_revise_corrected_version_updates_body_in_place(essay):
    reader = make_user("corrector")
    passage = essay.passages.get(position=4)
    progress = ReadingProgress.objects.create(reader=reader, passage=passage)
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    assert source.count("bids fair to become to popular") == 1
    corrected = source.replace("bids fair to become to popular", "bids fair to become too popular")

    result = text_revise(text=essay, source=corrected)

    assert result.summary == "1 edited, 9 unchanged."
    passage.refresh_from_db()
    assert "bids fair to become too popular, it gets scared." in passage.body
    assert passage.pk == essay.passages.get(position=4).pk
    progress.refresh_from_db()
    assert progress.passage_id == passage.pk
    assert ReadingProgress.objects.filter(reader=reader).count() == 1


def test_text_revise_corrected_version_updates_word_count(essay):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    corrected = source.replace("Ants can life 200 times", "Ants can lift about 200 times")

    text_revise(text=essay, source=corrected)

    passage = essay.passages.get(position=7)
    assert passage.word_count == source_paragraph_word_count(7) + 1


def source_paragraph_word_count(position: int) -> int:
    return len(source_paragraphs()[position - 1].split())


def test_text_revise_extra_passage_is_appended(essay):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")

    result = text_revise(text=essay, source=source + "\nA new last paragraph.\n")

    assert result.summary == "1 inserted, 10 unchanged."
    assert essay.passages.get(position=11).body == "A new last paragraph."


def test_text_revise_fewer_passages_keeps_the_removed_one_out_of_the_text(essay):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    shortened = "\n\n".join(source.strip().split("\n\n")[:10]) + "\n"
    last = essay.passages.get(position=10)

    result = text_revise(text=essay, source=shortened)

    assert result.summary == "1 removed, 9 unchanged."
    assert essay.passages.count() == 9
    assert essay_bodies(essay) == source_paragraphs()[:9]
    last.refresh_from_db()
    assert (last.position, last.body) == (None, source_paragraphs()[9])
    assert last.removed_at is not None


# Titles -----------------------------------------------------------------------


def test_text_import_first_block_of_two_lines_is_not_a_title(db):
    source = "First line of the opening paragraph\ncontinues here.\n\nSecond paragraph.\n"

    with pytest.raises(ValidationError) as excinfo:
        text_import(source=source)

    assert excinfo.value.messages == ["The file does not start with a title line: pass a title."]
    assert Text.objects.count() == 0


def test_text_import_first_block_of_two_lines_becomes_a_passage_given_a_title(db):
    source = "First line of the opening paragraph\ncontinues here.\n\nSecond paragraph.\n"

    text = text_import(source=source, title="Untitled Fragment").text

    assert text.title == "Untitled Fragment"
    assert text.slug == "untitled-fragment"
    assert essay_bodies(text) == [
        "First line of the opening paragraph continues here.",
        "Second paragraph.",
    ]


def test_text_import_long_single_line_is_not_a_title(db):
    long_line = "word " * 30  # 150 characters: longer than a title can be
    source = f"{long_line.strip()}\n\nSecond paragraph.\n"

    with pytest.raises(ValidationError):
        text_import(source=source)

    text = text_import(source=source, title="Long Opening").text
    assert essay_bodies(text) == [long_line.strip(), "Second paragraph."]


def test_text_import_title_argument_overrides_title_line(db):
    text = text_import(source="A Title Line\n\nOnly paragraph.\n", title="Given Title").text

    assert text.title == "Given Title"
    assert essay_bodies(text) == ["Only paragraph."]


def test_text_import_crlf_input_gives_same_passages(db):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert "\r\n\r\n" in source

    text = text_import(source=source).text

    assert text.title == "Anatomy of the Sect"
    assert essay_bodies(text) == source_paragraphs()
    for body in essay_bodies(text):
        assert "\r" not in body


def test_text_import_crlf_reimport_of_lf_import_changes_nothing(essay):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8").replace("\n", "\r\n")

    result = text_import(source=source)

    assert result.created == 0
    assert result.updated == 0
    assert result.unchanged == 10
    assert text_revise(text=essay, source=source).revision is None


# The import_text management command ------------------------------------------


def test_import_text_command_imports_file(db, tmp_path, capsys):
    path = tmp_path / "essay.txt"
    path.write_text("On Reading\n\nFirst paragraph,\nwrapped.\n\nSecond paragraph.\n")

    call_command("import_text", str(path), author="A. Writer")

    text = Text.objects.get(slug="on-reading")
    assert text.title == "On Reading"
    assert text.author == "A. Writer"
    assert essay_bodies(text) == ["First paragraph, wrapped.", "Second paragraph."]
    assert capsys.readouterr().out == ("“On Reading” (/texts/on-reading/): 2 passages added.\n")


def test_import_text_command_title_option_for_file_without_title(db, tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("An opening paragraph\nthat wraps.\n\nAnother paragraph.\n")

    call_command("import_text", str(path), title="Field Notes", author="B. Writer")

    text = Text.objects.get(slug="field-notes")
    assert text.title == "Field Notes"
    assert text.author == "B. Writer"
    assert essay_bodies(text) == ["An opening paragraph that wraps.", "Another paragraph."]
    assert capsys.readouterr().out == ("“Field Notes” (/texts/field-notes/): 2 passages added.\n")


def test_import_text_command_reimport_reports_unchanged(db, tmp_path, capsys):
    path = tmp_path / "essay.txt"
    path.write_text("On Reading\n\nFirst paragraph.\n\nSecond paragraph.\n")
    call_command("import_text", str(path))
    capsys.readouterr()

    call_command("import_text", str(path))

    assert capsys.readouterr().out == (
        "“On Reading” (/texts/on-reading/) is already imported with these 2 passages: "
        "nothing changed.\n"
    )
    assert Passage.objects.count() == 2


def test_import_text_command_missing_file_raises_command_error(db, tmp_path):
    missing = tmp_path / "missing.txt"

    with pytest.raises(CommandError) as excinfo:
        call_command("import_text", str(missing))

    assert str(excinfo.value).startswith(f"Cannot read {missing}: ")
    assert Text.objects.count() == 0


def test_import_text_command_no_title_raises_command_error(db, tmp_path):
    path = tmp_path / "untitled.txt"
    path.write_text("An opening paragraph\nthat wraps.\n\nAnother paragraph.\n")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_text", str(path))

    assert str(excinfo.value) == "The file does not start with a title line: pass a title."
    assert Text.objects.count() == 0


def test_import_text_command_empty_file_raises_command_error(db, tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n  \n")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_text", str(path))

    assert str(excinfo.value) == "The file has no text in it."
    assert Text.objects.count() == 0


def test_import_text_command_different_text_at_same_slug_is_refused(essay, tmp_path):
    path = tmp_path / "other.txt"
    path.write_text("Anatomy of the Sect\n\nA different essay with this title.\n")

    with pytest.raises(CommandError) as excinfo:
        call_command("import_text", str(path))

    assert str(excinfo.value) == (
        "There is already a text at /texts/anatomy-of-the-sect/ (“Anatomy of the Sect”) with "
        "other passages. Revise it explicitly, or import this one under another slug. "
        "To revise it, use --revise SLUG; for a new text, pass --slug."
    )
    assert essay_bodies(essay) == source_paragraphs()
