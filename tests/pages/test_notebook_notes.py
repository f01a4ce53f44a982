"""The notebook overview: all my notes on a text, in reading order, each with its quote
and passage and a link to it; nobody else's notes, and a constant number of queries."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from discussions import services
from groups.services import notebook_for
from tests.factories import make_group, make_user

ESSAY_URL = "/texts/anatomy-of-the-sect/"
NOTES_URL = f"{ESSAY_URL}notes/"


def note(reader, notebook, position, body, quote="", parent=None):
    passage = notebook.text.passages.get(position=position)
    return services.comment_create(
        author=reader,
        group=notebook,
        passage=passage,
        body=body,
        quote=quote,
        quote_start=passage.body.index(quote) if quote else None,
        parent=parent,
    )


def test_notebook_notes_lists_my_notes_in_reading_order_with_quotes_and_links(client, essay):
    reader = make_user("reader")
    notebook = notebook_for(reader=reader, text=essay)
    third = note(reader, notebook, 3, "Walls.", quote="organizational walls")
    first = note(reader, notebook, 1, "Approaches.")
    earlier_in_third = note(reader, notebook, 3, "Marx.", quote="Marx")
    reply = note(reader, notebook, 1, "And again.", parent=first)
    client.force_login(reader)

    response = client.get(NOTES_URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>My notes on Anatomy of the Sect</h1>" in html
    order = [
        html.index(f"<p>{body}</p>") for body in ("Approaches.", "And again.", "Marx.", "Walls.")
    ]
    assert order == sorted(order)
    assert f'<a href="{notebook.passage_url(3, f"comment-{third.pk}")}">Passage 3</a>' in html
    assert f'<a href="{notebook.passage_url(1, f"comment-{reply.pk}")}">Passage 1</a>' in html
    assert '<blockquote class="comment-quote"><p>“organizational walls”</p></blockquote>' in html
    assert earlier_in_third.pk < reply.pk  # written later, listed earlier: reading order


def test_notebook_notes_shows_no_one_elses_notes_nor_group_comments(client, essay):
    reader, other = make_user("reader"), make_user("other")
    group = make_group(essay, facilitator=reader, name="Circle", members=[other])
    note(other, notebook_for(reader=other, text=essay), 2, "Other's private note.")
    services.comment_create(
        author=reader, group=group, passage=essay.passages.get(position=2), body="In the group."
    )
    client.force_login(reader)

    html = client.get(NOTES_URL).content.decode()

    assert "Other's private note." not in html
    assert "In the group." not in html
    assert "No notes yet." in html


def test_notebook_notes_queries_do_not_grow_with_notes(client, essay):
    reader = make_user("reader")
    notebook = notebook_for(reader=reader, text=essay)
    note(reader, notebook, 1, "One.")
    client.force_login(reader)
    client.get(NOTES_URL)  # warm the session

    with CaptureQueriesContext(connection) as one:
        client.get(NOTES_URL)
    for position in range(1, 11):
        note(reader, notebook, position, f"Note {position}.", quote="the")
    with CaptureQueriesContext(connection) as eleven:
        html = client.get(NOTES_URL).content.decode()

    assert html.count('<li class="notebook-note') == 11
    assert len(eleven.captured_queries) == len(one.captured_queries) == 7


def test_notebook_notes_asks_a_visitor_to_log_in(client, essay):
    response = client.get(NOTES_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_notebook_passage_page_speaks_of_notes(client, essay):
    reader = make_user("reader")
    notebook = notebook_for(reader=reader, text=essay)
    note(reader, notebook, 2, "Mine.")
    client.force_login(reader)

    html = client.get(notebook.passage_url(2)).content.decode()

    assert '<h3 class="discussion-heading" id="discussion-heading">My notes ' in html
    assert '<span class="meta" id="comment-count">(1 note)</span>' in html
    assert '<summary class="composer-summary">Add a note</summary>' in html
    assert f'<a href="{NOTES_URL}">All my notes on this text</a>' in html
    assert "Pin" not in html
    assert "helpful" not in html.lower()
