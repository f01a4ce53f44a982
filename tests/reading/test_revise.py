"""Revising a text: passages aligned by content, discussions kept on their words."""

import html
import re

import pytest
from django.core.management import call_command

from discussions.models import Comment
from discussions.services import comment_create
from groups.models import Meeting
from reading.models import Passage, PassageVersion, Revision
from reading.revising import align
from reading.services import SHIPPED_ESSAY, text_revise
from tests.factories import make_group, make_user


def paragraphs() -> tuple[str, list[str]]:
    blocks = SHIPPED_ESSAY.read_text(encoding="utf-8").strip().split("\n\n")
    return blocks[0], [block.replace("\n", " ") for block in blocks[1:]]


def source_of(passages: list[str]) -> str:
    title, _ = paragraphs()
    return title + "\n\n" + "\n\n".join(passages) + "\n"


def bodies(text) -> list[str]:
    return list(text.passages.order_by("position").values_list("body", flat=True))


@pytest.fixture
def discussed(essay):
    """A comment quoting a phrase of every passage, each with a reply."""
    member = make_user("quoter")
    group = make_group(essay, members=[member])
    comments = {}
    for passage in essay.passages.order_by("position"):
        words = passage.body.split()[3:6]
        comment = comment_create(
            author=member, group=group, passage=passage, body="On this.", quote=" ".join(words)
        )
        comment_create(author=member, group=group, passage=passage, body="Reply.", parent=comment)
        comments[passage.position] = comment
    return group, comments


def assert_quotes_on_their_words(comments) -> None:
    for before in comments.values():
        comment = Comment.objects.select_related("passage").get(pk=before.pk)
        if comment.quote_detached_at is None:
            body = comment.passage.body
            assert body[comment.quote_start : comment.quote_end] == comment.quote_exact
        replies = Comment.objects.filter(parent=comment)
        assert [reply.passage_id for reply in replies] == [comment.passage_id]


def test_revise_inserted_paragraph_in_the_middle_keeps_later_passages(essay, discussed):
    _, comments = discussed
    _, passages = paragraphs()
    pks = list(essay.passages.order_by("position").values_list("pk", flat=True))
    revised = passages[:5] + ["A paragraph the editor found in the manuscript."] + passages[5:]

    result = text_revise(text=essay, source=source_of(revised))

    assert result.summary == "1 inserted, 10 unchanged."
    assert result.plan[5] == "new passage 6: inserted"
    assert result.plan[6] == "passage 6 → passage 7: unchanged"
    assert list(essay.passages.order_by("position").values_list("pk", flat=True)) == (
        pks[:5] + [essay.passages.get(position=6).pk] + pks[5:]
    )
    assert bodies(essay) == revised
    assert_quotes_on_their_words(comments)
    assert Comment.objects.count() == 20


def test_revise_deleted_passage_keeps_its_discussion_out_of_the_text(essay, discussed, client):
    _, comments = discussed
    _, passages = paragraphs()
    removed = essay.passages.get(position=3)

    result = text_revise(text=essay, source=source_of(passages[:2] + passages[3:]))

    assert result.summary == "1 removed, 9 unchanged."
    removed.refresh_from_db()
    assert removed.position is None
    assert Comment.objects.filter(passage=removed).count() == 2
    assert Passage.everything.count() == 10
    assert_quotes_on_their_words(comments)
    response = client.get(essay.get_absolute_url())
    assert "Passages no longer in the text" in response.content.decode()
    assert client.get(removed.get_absolute_url()).status_code == 200


def test_revise_split_moves_quotes_to_the_piece_with_their_words(essay, discussed):
    _, comments = discussed
    _, passages = paragraphs()
    first, second = passages[0].split(". ", 1)
    original = essay.passages.get(position=1)

    result = text_revise(text=essay, source=source_of([first + ".", second] + passages[1:]))

    assert result.summary == "1 split, 9 unchanged."
    assert bodies(essay)[:2] == [first + ".", second]
    assert_quotes_on_their_words(comments)
    # The larger piece keeps the passage's identity; the quote follows its words.
    assert result.plan[0] == "passage 1 → passages 1, 2: split (passage 2 keeps its identity)"
    original.refresh_from_db()
    assert original.position == 2
    comment = Comment.objects.get(pk=comments[1].pk)
    assert comment.passage.position == 1
    assert comment.quote_exact in first
    assert Comment.objects.count() == 20


def test_revise_merge_moves_the_merged_passages_discussion(essay, discussed):
    _, comments = discussed
    _, passages = paragraphs()
    merged = passages[3] + " " + passages[4]

    result = text_revise(text=essay, source=source_of(passages[:3] + [merged] + passages[5:]))

    assert result.summary == "1 merged, 8 unchanged."
    assert essay.passages.count() == 9
    assert_quotes_on_their_words(comments)
    assert Comment.objects.get(pk=comments[5].pk).passage.position == 4
    assert Comment.objects.get(pk=comments[4].pk).passage.position == 4
    assert Comment.objects.count() == 20


def test_revise_moved_passage_keeps_identity_and_discussion(essay, discussed):
    _, comments = discussed
    _, passages = paragraphs()
    last = essay.passages.get(position=10)

    result = text_revise(text=essay, source=source_of([passages[9]] + passages[:9]))

    assert "1 moved" in result.summary
    last.refresh_from_db()
    assert last.position == 1
    assert_quotes_on_their_words(comments)


def test_revise_edit_reanchors_exactly_approximately_or_detaches(essay, discussed):
    _, comments = discussed
    _, passages = paragraphs()
    quoted = [Comment.objects.get(pk=comments[n].pk).quote_exact for n in (1, 2, 3)]
    edited = list(passages)
    # 1: words added before the quote; 2: one letter of the quote corrected; 3: quote gone.
    edited[0] = "Indeed, " + edited[0]
    edited[1] = edited[1].replace(quoted[1], quoted[1][:-1] + "X", 1)
    edited[2] = edited[2].replace(quoted[2], "utterly different words here", 1)

    result = text_revise(text=essay, source=source_of(edited))

    assert result.summary == "3 edited, 7 unchanged."
    first, second, third = (Comment.objects.get(pk=comments[n].pk) for n in (1, 2, 3))
    assert (first.quote_exact, first.quote_original, first.quote_start) == (
        quoted[0],
        "",
        comments[1].quote_start + len("Indeed, "),
    )
    assert second.quote_exact == quoted[1][:-1] + "X"
    assert second.quote_original == quoted[1]
    assert second.quote_reanchored
    assert third.quote_detached_at is not None
    assert (third.quote_exact, third.quote_start) == (quoted[2], None)
    assert_quotes_on_their_words(comments)
    versions = PassageVersion.objects.filter(revision=result.revision)
    assert sorted(v.body for v in versions) == sorted(passages[:3])


def test_revise_ranges_of_meetings_and_questions_follow_their_passages(essay, discussed):
    group, _ = discussed
    _, passages = paragraphs()
    meeting = Meeting.objects.create(
        group=group, starts_at="2030-01-01T10:00Z", first_position=3, last_position=5
    )

    text_revise(text=essay, source=source_of(["New opening."] + passages[:3] + passages[4:]))

    meeting.refresh_from_db()
    assert (meeting.first_position, meeting.last_position) == (4, 5)


def test_revise_unchanged_file_changes_nothing(essay, discussed):
    result = text_revise(text=essay, source=SHIPPED_ESSAY.read_text(encoding="utf-8"))

    assert result.revision is None
    assert result.summary == "No changes."
    assert Revision.objects.filter(text=essay).count() == 1  # the import


def test_revise_records_the_revision(essay):
    _, passages = paragraphs()

    result = text_revise(text=essay, source=source_of(passages[1:]))

    revision = Revision.objects.get(pk=result.revision.pk)
    assert revision.summary == "1 removed, 9 unchanged."
    assert revision.plan.splitlines() == result.plan


def test_import_text_revise_dry_run_prints_plan_and_changes_nothing(essay, tmp_path, capsys):
    _, passages = paragraphs()
    path = tmp_path / "revised.txt"
    path.write_text(source_of(passages[:1] + ["Inserted paragraph."] + passages[1:]))

    call_command("import_text", str(path), revise=essay.slug, dry_run=True)

    dry = capsys.readouterr().out
    assert bodies(essay) == passages
    assert dry.splitlines()[:3] == [
        "passage 1 → passage 1: unchanged",
        "new passage 2: inserted",
        "passage 2 → passage 3: unchanged",
    ]
    assert dry.splitlines()[-1] == (
        "“Anatomy of the Sect” (/texts/anatomy-of-the-sect/): 1 inserted, 10 unchanged. "
        "Dry run: nothing changed."
    )
    call_command("import_text", str(path), revise=essay.slug)
    real = capsys.readouterr().out
    assert real.splitlines()[:-1] == dry.splitlines()[:-1]
    assert real.splitlines()[-1].endswith("Revised.")


@pytest.mark.parametrize(
    ("old", "new", "kinds"),
    [
        (["a b c", "d e f"], ["a b c", "d e f"], ["unchanged", "unchanged"]),
        (["a b c d", "e f g h"], ["a b c x", "e f g h"], ["edited", "unchanged"]),
        (["a b c d e f"], ["a b c", "d e f"], ["split"]),
        (["a b c", "d e f"], ["a b c d e f"], ["merged"]),
        (
            ["a b c", "d e f", "g h i"],
            ["g h i", "a b c", "d e f"],
            ["moved", "unchanged", "unchanged"],
        ),
        (["a  b c"], ["a b c"], ["edited"]),
        (["one two three", "four five six"], ["four five six"], ["unchanged", "removed"]),
    ],
)
def test_align_recognises_each_kind_of_change(old, new, kinds):
    assert [step.kind for step in align(old, new)] == kinds


def test_edited_passage_says_corrected_on_with_the_previous_wording(essay, client):
    _, passages = paragraphs()
    first_wording = passages[2]
    text_revise(text=essay, source=source_of([*passages[:2], first_wording + " Addendum."]))
    text_revise(
        text=essay, source=source_of([*passages[:2], first_wording + " Addendum, corrected."])
    )

    page = client.get("/texts/anatomy-of-the-sect/3/").content.decode()
    unchanged = client.get("/texts/anatomy-of-the-sect/2/").content.decode()

    assert "Corrected on" in page
    wordings = re.findall(r'<blockquote class="previous-wording"><p>(.*?)</p>', page, re.S)
    # Newest correction first: the wording just replaced, then the original.
    assert [html.unescape(w) for w in wordings] == [first_wording + " Addendum.", first_wording]
    assert "Corrected on" not in unchanged


def test_removed_passage_page_keeps_its_corrections(essay, client):
    _, passages = paragraphs()
    text_revise(text=essay, source=source_of([passages[0] + " Later regretted.", *passages[1:]]))
    text_revise(text=essay, source=source_of(passages[1:]))
    removed = Passage.everything.get(text=essay, position__isnull=True)

    page = client.get(removed.get_absolute_url()).content.decode()

    assert "Corrected on" in page
    assert passages[0] in page
