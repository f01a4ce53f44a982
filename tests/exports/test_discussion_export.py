"""Discussion exports (Markdown, CSV): what the pages show, nothing more, in reading order."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from discussions import selectors as page_selectors
from discussions import services
from discussions.models import Comment, HelpfulMark
from exports import selectors
from groups.models import Membership
from groups.services import notebook_for
from reading.models import ReadingProgress
from tests.factories import make_group

SECRETS = (
    "SECRET-HIDDEN",
    "SECRET-LONE-HIDDEN",
    "SECRET-DELETED",
    "SECRET-ANSWER-FIRST",
    "SECRET-ELSEWHERE",
)


def download(user, name, group) -> tuple[object, str]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse(name, args=[group.slug]))
    assert response.status_code == 200
    return response, b"".join(response.streaming_content).decode("utf-8")


def csv_rows(text: str) -> list[dict]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def secrets_in(text: str) -> set[str]:
    return {secret for secret in SECRETS if f"{secret}." in text or f"{secret} " in text}


# Privacy: two groups, a hidden comment, an "answer first" question ----------------------


@pytest.mark.parametrize("name", ["export_discussion_markdown", "export_discussion_csv"])
def test_member_export_leaks_nothing_the_page_hides(discussion, member, name):
    _, text = download(member, name, discussion["group"])
    assert secrets_in(text) == set()
    assert "A reply under a hidden comment." in text
    assert "Their open answer." in text


def test_member_markdown_keeps_the_threads_shape_with_placeholders(discussion, member):
    _, text = download(member, "export_discussion_markdown", discussion["group"])
    assert text.count("*Hidden by a facilitator.*") == 1  # the one with a reply
    assert text.count("*This comment was deleted.*") == 1  # likewise
    assert "*Answer first: the others' answers appear once you have answered.*" in text
    assert "Off topic." not in text  # the reason is for the author and facilitators


def test_author_who_answered_sees_own_hidden_comments_and_the_answers(discussion, other):
    _, text = download(other, "export_discussion_markdown", discussion["group"])
    assert secrets_in(text) == {"SECRET-HIDDEN", "SECRET-LONE-HIDDEN", "SECRET-ANSWER-FIRST"}
    assert "hidden by a facilitator: Off topic." in text


@pytest.mark.parametrize("name", ["export_discussion_markdown", "export_discussion_csv"])
def test_facilitator_export_has_hidden_and_answer_first_but_not_deleted_or_elsewhere(
    discussion, facilitator, name
):
    _, text = download(facilitator, name, discussion["group"])
    assert secrets_in(text) == {"SECRET-HIDDEN", "SECRET-LONE-HIDDEN", "SECRET-ANSWER-FIRST"}


def test_member_export_once_answered_shows_answer_first_answers(discussion, member):
    services.answer_save(author=member, question=discussion["first"], body="Now I answered.")
    _, text = download(member, "export_discussion_csv", discussion["group"])
    assert secrets_in(text) == {"SECRET-ANSWER-FIRST"}


def test_other_groups_export_has_nothing_of_this_group(discussion):
    stranger = get_user_model().objects.get(username="stranger")
    _, text = download(stranger, "export_discussion_markdown", discussion["elsewhere"])
    assert "SECRET-ELSEWHERE." in text
    assert "quoted" not in text and "open answer" not in text and "Open: who reads?" not in text


# The export is the page ----------------------------------------------------------------


def _page_tree(nodes) -> list:
    return [
        (n.comment.pk, n.placeholder if not n.show_body else n.comment.body, _page_tree(n.children))
        for n in nodes
    ]


def _export_tree(nodes) -> list:
    return [(n.id, n.placeholder or n.body, _export_tree(n.replies)) for n in nodes]


@pytest.mark.parametrize("role", ["member", "other", "facilitator"])
def test_export_shows_each_passage_as_its_page_does(discussion, essay, role):
    membership = Membership.objects.select_related("group__text", "user").get(
        group=discussion["group"], user__username=role
    )
    exported = {p.position: p for p in selectors.discussion_export(membership=membership).passages}
    for position in (1, 2):
        passage = essay.passages.get(position=position)
        thread = page_selectors.passage_thread(membership=membership, passage=passage)
        assert _export_tree(exported[position].threads) == _page_tree(thread.roots)
        page_questions = {
            view.question.pk: (view.can_see_answers, _page_tree(view.answers))
            for view in page_selectors.passage_questions(membership=membership, passage=passage)
            if view.question.first_position == position
        }
        assert {
            q.id: (q.answers_visible, _export_tree(q.answers)) for q in exported[position].questions
        } == page_questions


# Formats -------------------------------------------------------------------------------


def test_markdown_is_in_reading_order_with_authors_quotes_and_nesting(discussion, member):
    response, text = download(member, "export_discussion_markdown", discussion["group"])
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="{discussion["group"].slug}-discussion-'
    )
    assert response["Content-Disposition"].endswith('.md"')
    assert "no-store" in response["Cache-Control"]
    assert response.streaming  # written as it is read, never held whole
    assert text.startswith("# *Anatomy of the Sect* by Hal Draper: the discussion in “Reading")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [f"## Passage {n}" for n in range(1, len(headings) + 1)]
    passage_2 = text.index("## Passage 2")
    assert text.index("### Question (passages 2 to 3, answer first)") > passage_2
    assert text.index("Open: who reads?") < text.index("## Passage 3")
    assert "> **member** wrote on " in text
    assert ", on “To”\n>\n> A *quoted* thought.\n" in text
    assert ">\n> > **other** replied on " in text
    assert "(highlighted by a facilitator, helpful to 1)" in text


def test_csv_has_one_row_per_comment_or_answer_with_parents(discussion, member):
    response, text = download(member, "export_discussion_csv", discussion["group"])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = csv_rows(text)
    assert list(rows[0]) == [
        "id", "passage", "kind", "question", "author", "time", "parent", "quote", "text",
        "state", "helpful",
    ]  # fmt: skip
    summary = [(r["passage"], r["kind"], r["author"], r["text"], r["state"]) for r in rows]
    assert summary == [
        ("1", "comment", "member", "A *quoted* thought.", ""),
        ("1", "reply", "other", "A reply to the thought.", ""),
        ("1", "comment", "", "", "hidden"),
        ("1", "reply", "member", "A reply under a hidden comment.", ""),
        ("1", "comment", "", "", "deleted"),
        ("1", "reply", "other", "A reply under a deleted comment.", ""),
        ("2", "answer", "other", "Their open answer.", ""),
        ("2", "reply", "member", "A reply to their answer.", ""),
        ("2", "answer", "member", "My open answer.", ""),
    ]
    assert rows[0]["quote"] == "To"
    assert rows[1]["parent"] == rows[0]["id"]
    assert rows[7]["parent"] == rows[6]["id"]
    assert rows[6]["question"] == str(discussion["open"].pk)
    assert rows[6]["helpful"] == "1"


def test_csv_cells_never_start_a_spreadsheet_formula(group, essay, member):
    services.comment_create(
        author=member,
        group=group,
        passage=essay.passages.get(position=1),
        body='=HYPERLINK("https://evil.example","x")',
    )
    _, text = download(member, "export_discussion_csv", group)
    assert csv_rows(text)[0]["text"] == '\'=HYPERLINK("https://evil.example","x")'


def test_notebook_exports_its_notes_only(essay, reader):
    notebook = notebook_for(reader=reader, text=essay)
    services.comment_create(
        author=reader, group=notebook, passage=essay.passages.get(position=3), body="A note."
    )
    response, text = download(reader, "export_discussion_markdown", notebook)
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="{notebook.slug}-notebook-'
    )
    assert text.startswith("# My notebook on *Anatomy of the Sect* by Hal Draper\n")
    assert [line for line in text.splitlines() if line.startswith("## ")] == ["## Passage 3"]
    assert "### Notes\n\n> **reader** wrote on " in text
    assert "A note." in text


def test_removed_passage_keeps_its_discussion_at_the_end(group, essay, member):
    passage = essay.passages.get(position=10)
    services.comment_create(author=member, group=group, passage=passage, body="On the last one.")
    passage.position, passage.removed_at = None, passage.text.created_at
    passage.save(update_fields=["position", "removed_at"])
    _, text = download(member, "export_discussion_markdown", group)
    assert text.rstrip().endswith("On the last one.")
    assert "## A passage no longer in the text" in text
    assert csv_rows(download(member, "export_discussion_csv", group)[1])[0]["passage"] == "removed"


def test_group_page_links_the_exports(discussion, member, facilitator):
    for user, has_backup in ((member, False), (facilitator, True)):
        client = Client()
        client.force_login(user)
        page = client.get(discussion["group"].get_absolute_url()).content.decode()
        slug = discussion["group"].slug
        assert f'href="/groups/{slug}/export/discussion.md"' in page
        assert f'href="/groups/{slug}/export/discussion.csv"' in page
        assert (f'href="/groups/{slug}/export/group.json"' in page) is has_backup


# Queries and memory do not grow with the group ---------------------------------------------


def _grow(group, essay, size: int) -> None:
    """`size` more members, each with a comment, a reply, a helpful mark and progress."""
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"m{size}-{n}", password="!") for n in range(size)]
    )
    Membership.objects.bulk_create(Membership(group=group, user=u) for u in users)
    passages = list(essay.passages.all())
    comments = Comment.objects.bulk_create(
        Comment(
            group=group,
            passage=passages[n % len(passages)],
            author=u,
            body=f"Comment {n}.",
            body_html=f"<p>Comment {n}.</p>",
            hidden_at=group.created_at if n % 7 == 0 else None,
        )
        for n, u in enumerate(users)
    )
    Comment.objects.bulk_create(
        Comment(
            group=group,
            passage=c.passage,
            author=users[(n + 1) % size],
            parent=c,
            root=c,
            depth=1,
            body="A reply.",
            body_html="<p>A reply.</p>",
        )
        for n, c in enumerate(comments)
    )
    HelpfulMark.objects.bulk_create(
        HelpfulMark(comment=c, user=users[(n + 1) % size]) for n, c in enumerate(comments)
    )
    ReadingProgress.objects.bulk_create(
        ReadingProgress(reader=u, passage=passages[n % len(passages)]) for n, u in enumerate(users)
    )


def _queries(user, name, group) -> tuple[int, int]:
    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, args=[group.slug]))
        size = len(b"".join(response.streaming_content))
    return len(queries), size


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("export_discussion_markdown", "member"),
        ("export_discussion_csv", "member"),
        ("export_discussion_markdown", "facilitator"),
        ("export_group_json", "facilitator"),
    ],
)
def test_export_queries_do_not_grow_with_members_or_comments(
    group, essay, member, facilitator, name, role
):
    user = {"member": member, "facilitator": facilitator}[role]
    question = services.question_create(
        facilitator=facilitator, group=group, body="Q?", first_position=1, last_position=1
    )
    services.answer_save(author=member, question=question, body="A.")
    counts, sizes = [], []
    for size in (1, 9, 190):  # 1, 10 and 200 members (and comments, replies, marks)
        _grow(group, essay, size)
        count, length = _queries(user, name, group)
        counts.append(count)
        sizes.append(length)
    assert counts == [counts[0]] * 3, counts
    assert sizes[0] < sizes[1] < sizes[2]


@pytest.mark.django_db(transaction=True)
def test_exports_stream_outside_a_transaction_too(essay, facilitator, member):
    """In production each query commits at once: the server-side cursors are then held
    open across the streamed response (WITH HOLD)."""
    group = make_group(essay, facilitator=facilitator, members=[member])
    for position in (1, 5):
        services.comment_create(
            author=member, group=group, passage=essay.passages.get(position=position), body="Hi."
        )
    for name in ("export_discussion_markdown", "export_discussion_csv"):
        _, text = download(member, name, group)
        assert text.count("Hi.") == 2
    assert download(facilitator, "export_group_json", group)[1].count('"body": "Hi."') == 2
