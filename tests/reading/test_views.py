"""Reading pages and account pages: status codes, content, redirects, security headers."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils.html import escape
from pytest_django.asserts import assertContains, assertNotContains

from groups.models import StudyGroup
from reading.models import ReadingProgress, Text
from reading.services import SHIPPED_ESSAY
from tests.factories import PASSWORD, make_user

ESSAY_URL = "/texts/anatomy-of-the-sect/"
NEW_PASSWORD = "a-fresh-reading-lamp-42"


def source_paragraph(position: int) -> str:
    blocks = SHIPPED_ESSAY.read_text(encoding="utf-8").strip().split("\n\n")
    return blocks[position].replace("\n", " ")


def mark_read(reader, essay, *positions):
    for position in positions:
        ReadingProgress.objects.create(reader=reader, passage=essay.passages.get(position=position))


def page(response) -> str:
    return response.content.decode()


# Home ---------------------------------------------------------------------------


def test_home_anonymous_lists_the_essay_without_progress(client, essay):
    response = client.get("/")

    assert response.status_code == 200
    assertContains(response, f'<a href="{ESSAY_URL}">Anatomy of the Sect</a>', html=True, count=1)
    assertContains(response, '<p class="meta">Hal Draper · 10 passages</p>', html=True, count=1)
    assertContains(
        response,
        f'<a class="button" href="{ESSAY_URL}1/">Start reading</a>',
        html=True,
        count=1,
    )
    assertContains(response, '<a href="/accounts/signup/">Sign up</a>', html=True, count=2)
    assertNotContains(response, "<progress")
    assertNotContains(response, "Your groups")


def test_home_logged_in_nothing_read_shows_empty_progress_bar(reader_client, essay):
    response = reader_client.get("/")

    assert response.status_code == 200
    assertContains(
        response,
        '<progress id="progress-anatomy-of-the-sect" max="10" value="0">0%</progress>',
        html=True,
        count=1,
    )
    assertContains(response, "Your progress: 0 of 10 passages read", count=1)
    assertContains(
        response, f'<a class="button" href="{ESSAY_URL}1/">Start reading</a>', html=True, count=1
    )
    assertContains(response, f'<a href="{ESSAY_URL}notebook/">My notebook</a>', html=True)
    assertContains(
        response,
        '<a class="whoami" href="/me/">reader<span class="visually-hidden">: my reading</span></a>',
        html=True,
        count=1,
    )


def test_home_logged_in_some_read_shows_progress_and_continue(reader_client, reader, essay):
    mark_read(reader, essay, 1, 2, 3)

    response = reader_client.get("/")

    assert response.status_code == 200
    assertContains(
        response,
        '<progress id="progress-anatomy-of-the-sect" max="10" value="3">30%</progress>',
        html=True,
        count=1,
    )
    assertContains(response, "Your progress: 3 of 10 passages read", count=1)
    assertContains(
        response,
        f'<a class="button" href="{ESSAY_URL}continue/">'
        "Continue where you left off (passage 4)</a>",
        html=True,
        count=1,
    )


def test_home_logged_in_all_read_shows_finished(reader_client, reader, essay):
    mark_read(reader, essay, *range(1, 11))

    response = reader_client.get("/")

    assertContains(
        response,
        '<progress id="progress-anatomy-of-the-sect" max="10" value="10">100%</progress>',
        html=True,
        count=1,
    )
    assertContains(response, "Your progress: 10 of 10 passages read", count=1)
    assertContains(response, "Finished: review the passages", count=1)


def test_home_progress_counts_only_this_readers_progress(reader_client, reader, essay):
    mark_read(make_user("other"), essay, 1, 2, 3, 4)
    mark_read(reader, essay, 5)

    response = reader_client.get("/")

    assertContains(response, "Your progress: 1 of 10 passages read", count=1)
    assertContains(response, "Continue where you left off (passage 1)", count=1)


# Text detail --------------------------------------------------------------------


ROW = re.compile(r"<tr( class=\"is-read\")?>(.*?)</tr>", re.DOTALL)
CELLS = re.compile(
    # The selected group's discussion activity may follow the link (pages.glance).
    r'<td class="num">(\d+)</td>\s*<td><a href="([^"]+)">([^<]*)</a>'
    r'(?:\s*<span class="activity">.*?</span>)?</td>\s*'
    r'<td class="num words-col">(\d+)</td>'
)


def contents_rows(response) -> list[tuple]:
    """(number, link, opening words, word count, read state) for each row of the contents;
    read state is "read", "not read", or None when the page has no Read column."""
    tbody = page(response).split("<tbody>")[1].split("</tbody>")[0]
    rows = []
    for is_read_class, row in ROW.findall(tbody):
        number, link, opening, words = CELLS.search(row).groups()
        if '<span class="read-mark">✓<span class="visually-hidden"> read</span></span>' in row:
            state = "read"
            assert is_read_class == ' class="is-read"'
        elif '<span class="visually-hidden">not read</span>' in row:
            state = "not read"
            assert is_read_class == ""
        else:
            state = None
        rows.append((int(number), link, opening, int(words), state))
    return rows


def expected_rows(essay, states) -> list[tuple]:
    return [
        (
            passage.position,
            f"{ESSAY_URL}{passage.position}/",
            escape(" ".join(passage.body.split()[:10]).rstrip(".,;:!?-–—") + "…"),
            len(source_paragraph(passage.position).split()),
            states[passage.position - 1],
        )
        for passage in essay.passages.order_by("position")
    ]


def test_text_detail_anonymous_shows_contents_without_read_column(client, essay):
    response = client.get(ESSAY_URL)

    assert response.status_code == 200
    assertContains(response, "<h1>Anatomy of the Sect</h1>", html=True, count=1)
    assertContains(response, '<p class="byline">Hal Draper</p>', html=True, count=1)
    assert contents_rows(response) == expected_rows(essay, [None] * 10)
    assert contents_rows(response)[0] == (
        1,
        f"{ESSAY_URL}1/",
        "To sum up: we have seen three approaches so far…",
        60,
        None,
    )
    assertNotContains(response, '<th scope="col">Read</th>', html=True)
    assertNotContains(response, "<progress")
    assertNotContains(response, "read-mark")


def test_text_detail_opening_words_are_escaped(client, essay):
    rows = contents_rows(client.get(ESSAY_URL))

    assert rows[5][2] == "Its organizational method is the method of &quot;as if&quot;: let…"
    assert rows[9][2] == "Also, since only the mass party&#x27;s internal life is available…"


def test_text_detail_logged_in_marks_read_passages(reader_client, reader, essay):
    mark_read(reader, essay, 1, 3)

    response = reader_client.get(ESSAY_URL)

    assert response.status_code == 200
    assertContains(response, '<th scope="col">Read</th>', html=True, count=1)
    states = ["read", "not read", "read"] + ["not read"] * 7
    assert contents_rows(response) == expected_rows(essay, states)
    assert contents_rows(response)[1] == (
        2,
        f"{ESSAY_URL}2/",
        "The sect establishes itself on a HIGH level (far above…",
        127,
        "not read",
    )


def test_text_detail_logged_in_shows_progress_bar_and_continue(reader_client, reader, essay):
    mark_read(reader, essay, 1, 2)

    response = reader_client.get(ESSAY_URL)

    assertContains(
        response,
        '<label for="reading-progress" class="progress-label">'
        "Your progress: 2 of 10 passages read</label>",
        html=True,
        count=1,
    )
    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="2">20%</progress>',
        html=True,
        count=1,
    )
    assertContains(
        response,
        f'<a class="button" href="{ESSAY_URL}continue/">Continue where you left off: passage 3</a>',
        html=True,
        count=1,
    )


def test_text_detail_logged_in_nothing_read_offers_start(reader_client, essay):
    response = reader_client.get(ESSAY_URL)

    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="0">0%</progress>',
        html=True,
        count=1,
    )
    assertContains(
        response, f'<a class="button" href="{ESSAY_URL}1/">Start reading</a>', html=True, count=1
    )


def test_text_detail_logged_in_all_read_says_so(reader_client, reader, essay):
    mark_read(reader, essay, *range(1, 11))

    response = reader_client.get(ESSAY_URL)

    assertContains(response, '<p class="done">You have read every passage.</p>', html=True)
    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="10">100%</progress>',
        html=True,
        count=1,
    )


def long_text(passages: int) -> Text:
    from reading.services import text_import

    source = "A Long Text\n\n" + "\n\n".join(
        f"Paragraph {n} of a long text, with words enough to fill a line or two of the page."
        for n in range(1, passages + 1)
    )
    return text_import(source=source).text


def test_text_detail_pages_the_contents_of_a_long_text(client, db):
    text = long_text(250)
    url = text.get_absolute_url()

    first, last = client.get(url), client.get(url + "?page=3")

    assert [row[0] for row in contents_rows(first)] == list(range(1, 101))
    assert [row[0] for row in contents_rows(last)] == list(range(201, 251))
    assert "Showing passages 201 to 250 of 250." in page(last)
    assertContains(last, 'href="?page=3" aria-current="page"', count=2)
    assertContains(first, '<span class="visually-hidden">Passages </span>101–200</a>', count=2)


@pytest.mark.parametrize("number", ["abc", "0", "-1", "99999999999999999999999", "1\x00", "2.5"])
def test_text_detail_odd_page_numbers_show_the_nearest_page(client, db, number):
    text = long_text(150)

    response = client.get(text.get_absolute_url(), {"page": number})

    assert response.status_code == 200
    assert contents_rows(response)


def test_text_detail_short_text_has_no_pager(client, essay):
    assertNotContains(client.get(ESSAY_URL), "contents-pager")


def test_text_detail_contents_of_2000_passages_stays_light(client, db):
    text = long_text(2_000)

    response = client.get(text.get_absolute_url())

    assert len(response.content) < 150_000
    assert len(contents_rows(response)) == 100


def test_text_detail_shows_the_history_of_revisions(client, essay):
    from reading.services import text_revise

    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    text_revise(text=essay, source=source + "\n\nA closing note.\n")

    response = client.get(ESSAY_URL)

    assertContains(response, "History of this text")
    assertContains(response, "1 inserted, 10 unchanged.")
    assertContains(response, "Imported with 10 passages.")


# Passage page -------------------------------------------------------------------


@pytest.mark.parametrize("logged_in", [False, True])
def test_passage_detail_shows_body_verbatim(client, reader, essay, logged_in):
    if logged_in:
        client.force_login(reader)

    response = client.get(f"{ESSAY_URL}3/")

    assert response.status_code == 200
    body = source_paragraph(3)
    assert body.startswith("Marx, on the other, saw the vanguard elements")
    assertContains(response, f'<p id="passage-text">{body}</p>', count=1)
    assertContains(response, '<span class="position">Passage 3 of 10</span>', html=True)


def test_passage_detail_escapes_quotes_but_keeps_text(client, essay):
    response = client.get(f"{ESSAY_URL}4/")

    body = source_paragraph(4)
    assert '"Something must be the matter!' in body
    assertContains(response, f'<p id="passage-text">{escape(body)}</p>', count=1)


def test_passage_detail_has_previous_and_next_links_with_rel(client, essay):
    response = client.get(f"{ESSAY_URL}3/")

    assertContains(
        response,
        f'<a rel="prev" id="previous-passage" href="{ESSAY_URL}2/">'
        '<span aria-hidden="true">←</span> Passage 2</a>',
        html=True,
        count=1,
    )
    assertContains(
        response,
        f'<a rel="next" id="next-passage" href="{ESSAY_URL}4/">'
        'Passage 4 <span aria-hidden="true">→</span></a>',
        html=True,
        count=1,
    )


def test_passage_detail_first_passage_has_no_previous_link(client, essay):
    response = client.get(f"{ESSAY_URL}1/")

    assert response.status_code == 200
    assertNotContains(response, 'rel="prev"')
    assertContains(response, f'<a rel="next" id="next-passage" href="{ESSAY_URL}2/">', count=1)


def test_passage_detail_last_passage_links_back_to_contents(client, essay):
    response = client.get(f"{ESSAY_URL}10/")

    assert response.status_code == 200
    assertNotContains(response, 'rel="next"')
    assertContains(response, f'<a rel="prev" id="previous-passage" href="{ESSAY_URL}9/">', count=1)
    assertContains(response, f'<a href="{ESSAY_URL}">Back to contents</a>', html=True, count=1)


def test_passage_detail_breaks_off_note_on_passage_two(client, essay):
    response = client.get(f"{ESSAY_URL}2/")

    assertContains(
        response,
        '<p class="breaks-off"><span aria-hidden="true">⁂</span> '
        "The source text breaks off here, in mid-sentence.</p>",
        html=True,
        count=1,
    )
    assertContains(response, "or perhaps by some process of</p>", count=1)


def test_passage_detail_no_breaks_off_note_on_passage_three(client, essay):
    response = client.get(f"{ESSAY_URL}3/")

    assertNotContains(response, "breaks-off")
    assertNotContains(response, "breaks off here")


def test_passage_detail_anonymous_invites_to_log_in(client, essay):
    response = client.get(f"{ESSAY_URL}3/")

    assertContains(
        response,
        f'<p><a href="/accounts/login/?next={ESSAY_URL}3/">Log in</a> '
        "to mark passages read and join the discussion.</p>",
        html=True,
        count=1,
    )
    assertNotContains(response, "Mark as read")
    assertNotContains(response, "<progress")


def test_passage_detail_logged_in_shows_toggle_and_progress(reader_client, reader, essay):
    mark_read(reader, essay, 3)

    response = reader_client.get(f"{ESSAY_URL}3/")

    assertContains(response, f'<form method="post" action="{ESSAY_URL}3/progress/"', count=1)
    assertContains(response, '<input type="hidden" name="read" value="0">', html=True, count=1)
    assertContains(response, "Mark as unread", count=1)
    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="1">10%</progress>',
        html=True,
        count=1,
    )


@pytest.mark.parametrize(
    "url",
    [
        "/texts/no-such-text/",
        "/texts/no-such-text/1/",
        "/texts/no-such-text/continue/",
        f"{ESSAY_URL}0/",
        f"{ESSAY_URL}11/",
        f"{ESSAY_URL}99999/",
        f"{ESSAY_URL}99999999999999999999/",
    ],
)
@pytest.mark.parametrize("logged_in", [False, True])
def test_reading_pages_unknown_text_or_position_is_404(client, reader, essay, url, logged_in):
    if logged_in:
        client.force_login(reader)

    response = client.get(url)

    assert response.status_code == 404
    assertContains(response, "<h1>Page not found</h1>", html=True, status_code=404)


def test_notebook_unknown_text_is_404(reader_client, essay):
    assert reader_client.get("/texts/no-such-text/notebook/").status_code == 404


# A text without passages (possible through the admin) -------------------------


@pytest.mark.parametrize("logged_in", [False, True])
def test_reading_pages_text_without_passages_never_fail(client, reader, db, logged_in):
    empty = Text.objects.create(title="Empty Essay", slug="empty-essay")
    if logged_in:
        client.force_login(reader)

    home = client.get("/")
    detail = client.get("/texts/empty-essay/")
    first = client.get("/texts/empty-essay/1/")

    assert home.status_code == 200
    assertContains(home, "Empty Essay", count=1)
    assert detail.status_code == 200
    assert first.status_code == 404
    assert empty.passages.count() == 0


def test_notebook_text_without_passages_redirects_to_text(reader_client, reader, db):
    Text.objects.create(title="Empty Essay", slug="empty-essay")

    response = reader_client.get("/texts/empty-essay/notebook/")

    assert response.status_code == 302
    notebook = StudyGroup.objects.get(notebook_owner=reader)
    assert response["Location"] == f"/texts/empty-essay/?group={notebook.slug}"
    assert reader_client.get(response["Location"]).status_code == 200


# Continue reading ---------------------------------------------------------------


def test_continue_reading_anonymous_redirects_to_first_passage(client, essay):
    response = client.get(f"{ESSAY_URL}continue/")

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/"


def test_continue_reading_redirects_to_first_unread(reader_client, reader, essay):
    mark_read(reader, essay, 1, 2, 4)

    response = reader_client.get(f"{ESSAY_URL}continue/")

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}3/"


def test_continue_reading_ignores_other_readers_progress(reader_client, reader, essay):
    mark_read(make_user("other"), essay, 1, 2, 3)

    response = reader_client.get(f"{ESSAY_URL}continue/")

    assert response["Location"] == f"{ESSAY_URL}1/"


def test_continue_reading_all_read_redirects_to_text_with_message(reader_client, reader, essay):
    mark_read(reader, essay, *range(1, 11))

    response = reader_client.get(f"{ESSAY_URL}continue/", follow=True)

    assert response.redirect_chain == [(ESSAY_URL, 302)]
    assert response.status_code == 200
    assertContains(
        response,
        '<p class="message message-success">You have read all of “Anatomy of the Sect”.</p>',
        html=True,
        count=1,
    )


def test_continue_reading_post_is_405(reader_client, essay):
    assert reader_client.post(f"{ESSAY_URL}continue/").status_code == 405


# Progress needs a login -----------------------------------------------------------


# Notebook -----------------------------------------------------------------------


def test_notebook_anonymous_redirects_to_login(client, essay):
    response = client.get(f"{ESSAY_URL}notebook/")

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={ESSAY_URL}notebook/"
    assert StudyGroup.objects.shared().count() == 0


def test_notebook_redirects_to_first_unread_passage_in_notebook(reader_client, reader, essay):
    mark_read(reader, essay, 1, 2)

    response = reader_client.get(f"{ESSAY_URL}notebook/")

    notebook = StudyGroup.objects.get(notebook_owner=reader, text=essay)
    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}3/?group={notebook.slug}"
    assert list(notebook.memberships.values_list("user__username", "role")) == [
        ("reader", "facilitator")
    ]


def test_notebook_page_shows_private_notebook(reader_client, reader, essay):
    response = reader_client.get(f"{ESSAY_URL}notebook/", follow=True)

    assert response.status_code == 200
    assertContains(response, '<h2 id="group-heading">My notebook</h2>', html=True, count=1)
    assertContains(response, "Only you can see what you write here.", count=1)
    assertContains(response, f'<p id="passage-text">{source_paragraph(1)}</p>', count=1)


def test_notebook_visited_twice_makes_one_notebook(reader_client, reader, essay):
    first = reader_client.get(f"{ESSAY_URL}notebook/")
    second = reader_client.get(f"{ESSAY_URL}notebook/")

    assert first["Location"] == second["Location"]
    assert StudyGroup.objects.filter(notebook_owner=reader).count() == 1


def test_notebook_all_read_redirects_to_first_passage(reader_client, reader, essay):
    mark_read(reader, essay, *range(1, 11))

    response = reader_client.get(f"{ESSAY_URL}notebook/")

    notebook = StudyGroup.objects.get(notebook_owner=reader)
    assert response["Location"] == f"{ESSAY_URL}1/?group={notebook.slug}"


# Sign up ------------------------------------------------------------------------


def signup_data(**overrides):
    data = {
        "username": "newreader",
        "email": "newreader@example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def test_signup_page_renders(client, db):
    response = client.get("/accounts/signup/")

    assert response.status_code == 200
    assertContains(response, "<h1>Create an account</h1>", html=True, count=1)
    assertContains(response, 'name="email"', count=1)


def test_signup_valid_creates_user_and_logs_in(client, essay):
    response = client.post("/accounts/signup/", signup_data())

    user = get_user_model().objects.get(username="newreader")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert user.email == "newreader@example.com"
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    home = client.get("/")
    assertContains(
        home,
        '<a class="whoami" href="/me/">newreader<span class="visually-hidden">: my reading</span></a>',
        html=True,
        count=1,
    )
    assertContains(home, "Welcome to sectstudy, newreader.", count=1)


def test_signup_logged_in_redirects_home(reader_client):
    response = reader_client.get("/accounts/signup/")

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"password2": "a-different-password-99"}, "The two password fields didn’t match."),
        ({"username": "reader"}, "A user with that username already exists."),
        ({"username": "READER"}, "A user with that username already exists."),
        ({"email": "reader@example.com"}, "An account with this email address already exists."),
        ({"email": "Reader@Example.COM"}, "An account with this email address already exists."),
        ({"email": ""}, "This field is required."),
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"password1": "", "password2": ""}, "This field is required."),
        ({"password1": "abc", "password2": "abc"}, "This password is too short."),
    ],
    ids=[
        "mismatched-passwords",
        "duplicate-username",
        "duplicate-username-other-case",
        "duplicate-email",
        "duplicate-email-other-case",
        "missing-email",
        "invalid-email",
        "missing-passwords",
        "short-password",
    ],
)
def test_signup_invalid_rerenders_with_error(client, reader, overrides, error):
    response = client.post("/accounts/signup/", signup_data(**overrides))

    assert response.status_code == 200
    assertContains(response, escape(error))
    assert get_user_model().objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_signup_missing_email_field_entirely_rerenders(client, db):
    data = signup_data()
    del data["email"]

    response = client.post("/accounts/signup/", data)

    assert response.status_code == 200
    assertContains(response, "This field is required.", count=1)
    assert get_user_model().objects.count() == 0


def test_signup_empty_post_rerenders(client, db):
    response = client.post("/accounts/signup/", {})

    assert response.status_code == 200
    assert get_user_model().objects.count() == 0


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "https:evil.example", "/\\evil.example/"],
)
def test_signup_next_offsite_redirects_home(client, db, target):
    response = client.post("/accounts/signup/", signup_data(next=target))

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signup_next_offsite_in_query_string_redirects_home(client, db):
    response = client.post("/accounts/signup/?next=https://evil.example/", signup_data())

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_signup_next_offsite_carried_by_form_redirects_home(client, db):
    form_page = client.get("/accounts/signup/?next=https://evil.example/")
    assertContains(
        form_page, '<input type="hidden" name="next" value="https://evil.example/">', html=True
    )

    response = client.post("/accounts/signup/", signup_data(next="https://evil.example/"))

    assert response["Location"] == "/"


def test_signup_next_on_site_redirects_there(client, essay):
    response = client.post("/accounts/signup/", signup_data(next=f"{ESSAY_URL}3/"))

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}3/"


def test_signup_next_is_escaped_in_form(client, db):
    response = client.get('/accounts/signup/?next="><b>x</b>')

    assert response.status_code == 200
    assertNotContains(response, "<b>x</b>")
    assertContains(response, 'value="&quot;&gt;&lt;b&gt;x&lt;/b&gt;"', count=1)


def test_signup_invalid_keeps_next_for_the_second_try(client, essay):
    # The invitation page sends newcomers to /accounts/signup/?next=/join/<token>/ and
    # promises "you will come straight back here"; a typo must not break that promise.
    form_page = client.get(f"/accounts/signup/?next={ESSAY_URL}3/")
    assertContains(
        form_page, f'<input type="hidden" name="next" value="{ESSAY_URL}3/">', html=True, count=1
    )

    invalid = client.post(
        "/accounts/signup/", signup_data(password2="a-typo-in-password", next=f"{ESSAY_URL}3/")
    )

    assert invalid.status_code == 200
    assertContains(
        invalid, f'<input type="hidden" name="next" value="{ESSAY_URL}3/">', html=True, count=1
    )
    assertContains(invalid, f'href="/accounts/login/?next={ESSAY_URL}3/"', count=1)
    retry = client.post("/accounts/signup/", signup_data(next=f"{ESSAY_URL}3/"))
    assert retry.status_code == 302
    assert retry["Location"] == f"{ESSAY_URL}3/"


# Log in, log out ----------------------------------------------------------------


def test_login_page_renders(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assertContains(response, "<h1>Log in</h1>", html=True, count=1)


def test_login_valid_redirects_home(client, reader):
    response = client.post("/accounts/login/", {"username": "reader", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(reader.pk)


def test_login_next_on_site_redirects_there(client, reader, essay):
    response = client.post(
        "/accounts/login/",
        {"username": "reader", "password": PASSWORD, "next": f"{ESSAY_URL}3/"},
    )

    assert response["Location"] == f"{ESSAY_URL}3/"


def test_login_next_offsite_redirects_home(client, reader):
    response = client.post(
        "/accounts/login/",
        {"username": "reader", "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_wrong_password_keeps_next(client, reader, essay):
    response = client.post(
        "/accounts/login/",
        {"username": "reader", "password": "wrong", "next": f"{ESSAY_URL}3/"},
    )

    assert response.status_code == 200
    assertContains(
        response, f'<input type="hidden" name="next" value="{ESSAY_URL}3/">', html=True, count=1
    )
    assertContains(response, f'href="/accounts/signup/?next={ESSAY_URL}3/"', count=1)


def test_login_wrong_password_rerenders_with_error(client, reader):
    response = client.post("/accounts/login/", {"username": "reader", "password": "wrong"})

    assert response.status_code == 200
    assertContains(response, "Please enter a correct username and password.", count=1)
    assert "_auth_user_id" not in client.session


def test_logout_post_logs_out_and_redirects_home(reader_client):
    response = reader_client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in reader_client.session
    assertContains(reader_client.get("/"), '<a href="/accounts/signup/">Sign up</a>', html=True)


def test_logout_get_is_405(reader_client):
    response = reader_client.get("/accounts/logout/")

    assert response.status_code == 405
    assert "_auth_user_id" in reader_client.session


# Passwords ----------------------------------------------------------------------


def test_password_change_anonymous_redirects_to_login(client, db):
    response = client.get("/accounts/password_change/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/password_change/"


def test_password_change_changes_password_and_keeps_session(reader_client, reader):
    form = reader_client.get("/accounts/password_change/")
    assert form.status_code == 200
    assertContains(form, "<h1>Change your password</h1>", html=True, count=1)

    response = reader_client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_change/done/"
    reader.refresh_from_db()
    assert reader.check_password(NEW_PASSWORD)
    done = reader_client.get("/accounts/password_change/done/")
    assert done.status_code == 200
    assertContains(done, "<h1>Password changed</h1>", html=True, count=1)


def test_password_change_wrong_old_password_rerenders(reader_client, reader):
    response = reader_client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assertContains(response, "Your old password was entered incorrectly.", count=1)
    reader.refresh_from_db()
    assert reader.check_password(PASSWORD)


def test_password_reset_sends_email_with_reset_link(client, reader):
    form = client.get("/accounts/password_reset/")
    assert form.status_code == 200

    response = client.post("/accounts/password_reset/", {"email": "reader@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Reset your sectstudy password"
    assert message.to == ["reader@example.com"]
    links = re.findall(r"http://testserver(/accounts/reset/[^\s]+/)", message.body)
    assert len(links) == 1
    assert client.get("/accounts/password_reset/done/").status_code == 200


def test_password_reset_link_sets_new_password(client, reader):
    client.post("/accounts/password_reset/", {"email": "reader@example.com"})
    link = re.findall(r"http://testserver(/accounts/reset/[^\s]+/)", mail.outbox[0].body)[0]

    form = client.get(link, follow=True)
    assert form.status_code == 200
    assertContains(form, "<h1>Choose a new password</h1>", html=True, count=1)
    set_password_url = form.redirect_chain[-1][0]
    assert set_password_url.endswith("/set-password/")

    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/reset/done/"
    reader.refresh_from_db()
    assert reader.check_password(NEW_PASSWORD)
    assert client.get("/accounts/reset/done/").status_code == 200


def test_password_reset_unknown_email_sends_nothing(client, reader):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 0


def test_password_reset_bad_link_says_so(client, reader):
    response = client.get("/accounts/reset/MQ/bad-token/")

    assert response.status_code == 200
    assertContains(response, "<h1>This link no longer works</h1>", html=True, count=1)


# Security headers and markup ----------------------------------------------------

ANONYMOUS_PAGES = [
    "/",
    ESSAY_URL,
    f"{ESSAY_URL}2/",
    f"{ESSAY_URL}3/",
    f"{ESSAY_URL}10/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/done/",
    "/texts/no-such-text/",
]
LOGGED_IN_PAGES = [
    "/",
    ESSAY_URL,
    f"{ESSAY_URL}2/",
    f"{ESSAY_URL}3/",
    f"{ESSAY_URL}10/",
    "/accounts/password_change/",
    "/accounts/password_change/done/",
    "/texts/no-such-text/",
]
ALL_PAGES = [(url, False) for url in ANONYMOUS_PAGES] + [(url, True) for url in LOGGED_IN_PAGES]


def expected_status(url):
    return 404 if url == "/texts/no-such-text/" else 200


def get_page(client, reader, essay, url, logged_in):
    if logged_in:
        mark_read(reader, essay, 1)
        client.force_login(reader)
    return client.get(url)


@pytest.mark.parametrize(("url", "logged_in"), ALL_PAGES)
def test_pages_send_strict_csp_with_nonce(client, reader, essay, url, logged_in):
    response = get_page(client, reader, essay, url, logged_in)

    assert response.status_code == expected_status(url)
    policy = response["Content-Security-Policy"]
    nonces = re.findall(r"'nonce-([A-Za-z0-9_\-+/=]+)'", policy)
    assert len(nonces) == 1
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "style-src 'self';" in policy
    scripts = re.findall(r"<script\b[^>]*>", page(response))
    assert f'<script src="/static/js/site.js" nonce="{nonces[0]}" defer>' in scripts
    for tag in scripts:
        assert f'nonce="{nonces[0]}"' in tag
        assert ' src="/static/' in tag


@pytest.mark.parametrize(("url", "logged_in"), ALL_PAGES)
def test_pages_have_no_inline_styles_or_scripts(client, reader, essay, url, logged_in):
    response = get_page(client, reader, essay, url, logged_in)

    assert response.status_code == expected_status(url)
    html = page(response)
    assert re.findall(r"\sstyle\s*=", html, flags=re.IGNORECASE) == []
    assert re.findall(r"<style\b", html, flags=re.IGNORECASE) == []
    assert re.findall(r"\son[a-z]+\s*=", html, flags=re.IGNORECASE) == []
    assert re.findall(r"<script\b(?![^>]*\bsrc=)[^>]*>", html, flags=re.IGNORECASE) == []


def test_pages_nonce_differs_between_requests(client, essay):
    first = client.get("/")["Content-Security-Policy"]
    second = client.get("/")["Content-Security-Policy"]

    assert first != second


def test_query_string_values_that_are_not_slugs_are_ignored_not_500(reader_client, essay):
    # A NUL byte would make PostgreSQL refuse the query.
    for url in (
        f"{ESSAY_URL}3/?group=%00",
        f"{ESSAY_URL}?group=%00bad",
        "/groups/new/?text=%00",
        f"{ESSAY_URL}3/?group=" + "x" * 500,
    ):
        assert reader_client.get(url).status_code == 200, url


def test_the_database_allows_one_account_per_email_whatever_its_case(db):
    from django.contrib.auth import get_user_model
    from django.db import IntegrityError, transaction

    User = get_user_model()
    User.objects.create_user("first-reader", "Same@Example.com", "x")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("second-reader", "same@example.com", "x")
    # Accounts without an email (made in the admin) are not affected.
    User.objects.create_user("no-email-1", "", "x")
    User.objects.create_user("no-email-2", "", "x")


def test_pages_have_a_meta_description(client, essay):
    home = client.get("/").content.decode()
    passage = client.get(f"{ESSAY_URL}3/").content.decode()

    assert (
        '<meta name="description" content="Study groups read one essay together, passage by '
        'passage, and discuss it beside the text.">'
    ) in home
    assert re.search(
        r'<meta name="description" content="Anatomy of the Sect, passage 3: Marx, on the other, '
        r"[^\"]+…\">",
        passage,
    )


def test_mark_read_and_continue_marks_the_passage_read_and_opens_the_next(
    reader_client, reader, essay
):
    html = reader_client.get(f"{ESSAY_URL}3/").content.decode()
    assert (
        f'<input type="hidden" name="next" value="{ESSAY_URL}4/">\n'
        '    <button type="submit" class="secondary">Mark read and continue'
    ) in html

    response = reader_client.post(
        f"{ESSAY_URL}3/progress/", {"read": "1", "next": f"{ESSAY_URL}4/"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}4/"
    assert ReadingProgress.objects.filter(reader=reader, passage__position=3).count() == 1
    # Read already: the plain "next" link is enough.
    assert "Mark read and continue" not in reader_client.get(f"{ESSAY_URL}3/").content.decode()


def test_last_passage_says_the_essay_is_finished_and_what_is_left(reader_client, reader, essay):
    html = reader_client.get(f"{ESSAY_URL}10/").content.decode()

    assert '<h2 id="finished-heading">The end of the essay</h2>' in html
    assert (
        "This is the last passage of Anatomy of the Sect. You have read 0 of its 10 passages: "
        f'<a href="{ESSAY_URL}">see which are left</a>.'
    ) in html
    assert "Mark read and continue" not in html
