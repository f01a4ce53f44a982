"""Reading progress: toggling read/unread, htmx fragments, races, and query counts."""

import html
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pytest_django.asserts import assertContains, assertNotContains

from groups.models import Meeting
from reading import services
from reading.models import ReadingProgress
from reading.selectors import PassageReading, Progress, passage_reading
from tests.factories import at_once, make_group, make_text, make_user

ESSAY_URL = "/texts/anatomy-of-the-sect/"
PROGRESS_URL = f"{ESSAY_URL}3/progress/"
HTMX = {"HX-Request": "true"}
THREADS = 8


def progress_rows(reader):
    return list(
        ReadingProgress.objects.filter(reader=reader)
        .order_by("passage__position")
        .values_list("passage__position", flat=True)
    )


# Toggling without htmx --------------------------------------------------------


def test_progress_update_read_marks_passage_and_redirects_back(reader_client, reader, essay):
    response = reader_client.post(PROGRESS_URL, {"read": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}3/"
    assert progress_rows(reader) == [3]


def test_progress_update_unread_removes_mark_and_redirects_back(reader_client, reader, essay):
    ReadingProgress.objects.create(reader=reader, passage=essay.passages.get(position=3))

    response = reader_client.post(PROGRESS_URL, {"read": "0"})

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}3/"
    assert progress_rows(reader) == []


def test_progress_update_unread_when_not_read_changes_nothing(reader_client, reader, essay):
    response = reader_client.post(PROGRESS_URL, {"read": "0"})

    assert response.status_code == 302
    assert progress_rows(reader) == []


def test_progress_update_page_shows_new_state_after_redirect(reader_client, reader, essay):
    response = reader_client.post(PROGRESS_URL, {"read": "1"}, follow=True)

    assert response.redirect_chain == [(f"{ESSAY_URL}3/", 302)]
    assertContains(response, "You have read this passage.", count=1)
    assertContains(response, '<input type="hidden" name="read" value="0">', html=True, count=1)
    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="1">10%</progress>',
        html=True,
        count=1,
    )


def test_the_passage_page_form_comes_back_to_the_same_page_and_group_at_the_panel(reader, essay):
    """Without JavaScript, marking a passage read keeps the group and shows the change."""
    group = make_group(essay, facilitator=reader)
    client = Client()
    client.force_login(reader)
    page = f"{ESSAY_URL}3/?group={group.slug}"
    form = re.search(
        r'<input type="hidden" name="next" value="([^"]+)">', client.get(page).content.decode()
    )

    response = client.post(PROGRESS_URL, {"read": "1", "next": html.unescape(form[1])})

    assert response["Location"] == f"{page}#progress-panel"
    assert progress_rows(reader) == [3]


def test_progress_update_next_on_site_redirects_there(reader_client, reader, essay):
    response = reader_client.post(PROGRESS_URL, {"read": "1", "next": ESSAY_URL})

    assert response["Location"] == ESSAY_URL
    assert progress_rows(reader) == [3]


def test_progress_update_next_offsite_redirects_to_passage(reader_client, reader, essay):
    response = reader_client.post(PROGRESS_URL, {"read": "1", "next": "https://evil.example/"})

    assert response["Location"] == f"{ESSAY_URL}3/"


def test_progress_update_only_touches_this_reader(reader_client, reader, essay):
    other = make_user("other")
    passage = essay.passages.get(position=3)
    ReadingProgress.objects.create(reader=other, passage=passage)
    ReadingProgress.objects.create(reader=reader, passage=passage)

    reader_client.post(PROGRESS_URL, {"read": "0"})

    assert progress_rows(reader) == []
    assert progress_rows(other) == [3]


def test_progress_update_double_post_leaves_one_row(reader_client, reader, essay):
    first = reader_client.post(PROGRESS_URL, {"read": "1"})
    second = reader_client.post(PROGRESS_URL, {"read": "1"})

    assert first.status_code == 302
    assert second.status_code == 302
    assert ReadingProgress.objects.filter(reader=reader).count() == 1


@pytest.mark.parametrize("data", [{"read": "banana"}, {"read": ""}, {}, {"read": "2"}])
def test_progress_update_invalid_value_changes_nothing(reader_client, reader, essay, data):
    ReadingProgress.objects.create(reader=reader, passage=essay.passages.get(position=3))

    response = reader_client.post(PROGRESS_URL, data, follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [(f"{ESSAY_URL}3/", 302)]
    assertContains(response, "That progress update was not understood; nothing changed.", count=1)
    assert progress_rows(reader) == [3]


@pytest.mark.parametrize("data", [{"read": "banana"}, {}])
def test_progress_update_invalid_value_with_htmx_changes_nothing(
    reader_client, reader, essay, data
):
    response = reader_client.post(PROGRESS_URL, data, headers=HTMX)

    assert response.status_code == 200
    assertContains(response, '<section class="progress-panel" id="progress-panel"', count=1)
    assert progress_rows(reader) == []


def test_progress_update_get_is_405(reader_client, reader, essay):
    response = reader_client.get(PROGRESS_URL, {"read": "1"})

    assert response.status_code == 405
    assert progress_rows(reader) == []


def test_progress_update_unknown_passage_is_404(reader_client, reader, essay):
    assert reader_client.post(f"{ESSAY_URL}11/progress/", {"read": "1"}).status_code == 404
    assert reader_client.post("/texts/nope/1/progress/", {"read": "1"}).status_code == 404
    assert progress_rows(reader) == []


def test_progress_update_anonymous_is_redirected_to_login_and_back_to_the_passage(client, essay):
    response = client.post(PROGRESS_URL, {"read": "1"})

    assert response.status_code == 302
    # Not back to the progress URL, which only accepts POST.
    assert response["Location"] == f"/accounts/login/?next={PROGRESS_URL.removesuffix('progress/')}"
    assert ReadingProgress.objects.count() == 0


def test_progress_update_requires_csrf_token(reader, essay):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(reader)

    response = csrf_client.post(PROGRESS_URL, {"read": "1"})

    assert response.status_code == 403
    assert progress_rows(reader) == []


# Toggling with htmx -----------------------------------------------------------


def test_progress_update_htmx_read_returns_fragment(reader_client, reader, essay):
    response = reader_client.post(PROGRESS_URL, {"read": "1"}, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith('<section class="progress-panel" id="progress-panel"')
    assert html.strip().endswith("</section>")
    assert html.count("<section") == 1
    assertContains(response, f'<form method="post" action="{PROGRESS_URL}"', count=1)
    assertContains(response, f'data-hx-post="{PROGRESS_URL}"', count=1)
    assertContains(response, 'data-hx-target="#progress-panel" data-hx-swap="outerHTML"', count=1)
    assertContains(response, '<input type="hidden" name="read" value="0">', html=True, count=1)
    assertContains(response, "Mark as unread", count=1)
    assertContains(response, 'name="csrfmiddlewaretoken"', count=1)
    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="1">10%</progress>',
        html=True,
        count=1,
    )
    assertContains(response, "Your progress: 1 of 10 passages read", count=1)
    assertNotContains(response, "<html")
    assertNotContains(response, "<body")
    assertNotContains(response, "<!doctype")
    assertNotContains(response, "passage-body")
    assert progress_rows(reader) == [3]


def test_progress_update_htmx_unread_returns_fragment(reader_client, reader, essay):
    for position in (1, 2, 3):
        ReadingProgress.objects.create(reader=reader, passage=essay.passages.get(position=position))

    response = reader_client.post(PROGRESS_URL, {"read": "0"}, headers=HTMX)

    assert response.status_code == 200
    assertContains(response, '<input type="hidden" name="read" value="1">', html=True, count=1)
    assertContains(response, "Mark as read", count=1)
    assertNotContains(response, "You have read this passage.")
    assertContains(
        response,
        '<progress id="reading-progress" max="10" value="2">20%</progress>',
        html=True,
        count=1,
    )
    assertNotContains(response, "<html")
    assert progress_rows(reader) == [1, 2]


def test_progress_update_htmx_double_post_leaves_one_row(reader_client, reader, essay):
    reader_client.post(PROGRESS_URL, {"read": "1"}, headers=HTMX)
    response = reader_client.post(PROGRESS_URL, {"read": "1"}, headers=HTMX)

    assert response.status_code == 200
    assertContains(response, "Your progress: 1 of 10 passages read", count=1)
    assert ReadingProgress.objects.filter(reader=reader).count() == 1


# Races ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_progress_update_concurrent_posts_make_one_row(essay):
    reader = make_user("racer")
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(reader)
        clients.append(client)

    statuses = at_once(
        *[lambda c=c: c.post(PROGRESS_URL, {"read": "1"}).status_code for c in clients]
    )

    assert statuses == [302] * THREADS
    assert ReadingProgress.objects.filter(reader=reader).count() == 1


@pytest.mark.django_db(transaction=True)
def test_progress_set_concurrent_calls_make_one_row(essay):
    reader = make_user("racer")
    passage = essay.passages.get(position=5)

    results = at_once(
        *[lambda: services.progress_set(reader=reader, passage=passage, read=True)] * THREADS
    )

    assert results == [True] * THREADS
    assert ReadingProgress.objects.filter(reader=reader, passage=passage).count() == 1


@pytest.mark.django_db(transaction=True)
def test_progress_set_concurrent_read_and_unread_never_fails(essay):
    reader = make_user("racer")
    passage = essay.passages.get(position=5)

    results = at_once(
        *[
            lambda read=index % 2 == 0: services.progress_set(
                reader=reader, passage=passage, read=read
            )
            for index in range(THREADS)
        ]
    )

    assert results == [index % 2 == 0 for index in range(THREADS)]
    assert ReadingProgress.objects.filter(reader=reader, passage=passage).count() in (0, 1)


def test_progress_set_read_twice_is_idempotent(reader, essay):
    passage = essay.passages.get(position=1)

    assert services.progress_set(reader=reader, passage=passage, read=True) is True
    assert services.progress_set(reader=reader, passage=passage, read=True) is True

    assert progress_rows(reader) == [1]


def test_progress_set_unread_removes_row(reader, essay):
    passage = essay.passages.get(position=1)
    services.progress_set(reader=reader, passage=passage, read=True)

    assert services.progress_set(reader=reader, passage=passage, read=False) is False

    assert progress_rows(reader) == []


# Query counts -----------------------------------------------------------------
# Each page is visited once before counting: a reader's first visit to a text makes
# their private notebook and remembers the selected group in the session.


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def read_all(reader, text):
    ReadingProgress.objects.bulk_create(
        [ReadingProgress(reader=reader, passage=passage) for passage in text.passages.all()]
    )


def add_group_with_meeting(text, facilitator):
    group = make_group(text, facilitator=facilitator, members=[make_user()])
    Meeting.objects.create(
        group=group, starts_at="2199-01-01T19:00:00Z", first_position=1, last_position=2
    )


def test_text_detail_query_count_does_not_grow_with_passages(
    reader_client, reader, db, django_assert_num_queries
):
    small, large = make_text(3), make_text(30)
    for text in (small, large):
        read_all(reader, text)
        add_group_with_meeting(text, reader)
        reader_client.get(text.get_absolute_url())
    small_count = count_queries(reader_client, small.get_absolute_url())

    with django_assert_num_queries(small_count):
        response = reader_client.get(large.get_absolute_url())

    assert response.content.decode().count('<tr class="is-read">') == 30


def test_text_detail_query_count_does_not_grow_with_passages_read(
    reader_client, reader, db, django_assert_num_queries
):
    text = make_text(30)
    url = text.get_absolute_url()
    reader_client.get(url)
    none_read = count_queries(reader_client, url)
    read_all(reader, text)

    with django_assert_num_queries(none_read):
        response = reader_client.get(url)

    assert response.content.decode().count('<tr class="is-read">') == 30


def test_text_detail_anonymous_query_count_does_not_grow_with_passages(
    client, db, django_assert_num_queries
):
    small, large = make_text(3), make_text(30)
    small_count = count_queries(client, small.get_absolute_url())

    with django_assert_num_queries(small_count):
        client.get(large.get_absolute_url())


def make_texts_with_groups(reader, count):
    for _ in range(count):
        text = make_text(3)
        ReadingProgress.objects.create(reader=reader, passage=text.passages.get(position=1))
        add_group_with_meeting(text, reader)


def test_home_query_count_does_not_grow_with_texts(
    reader_client, reader, db, django_assert_num_queries
):
    make_texts_with_groups(reader, 1)
    reader_client.get("/")
    one = count_queries(reader_client, "/")
    make_texts_with_groups(reader, 9)

    with django_assert_num_queries(one):
        response = reader_client.get("/")

    html = response.content.decode()
    assert html.count("<progress") == 10
    assert html.count("Next meeting: read passages 1 to 2") == 10


def test_home_query_count_does_not_grow_with_passages_read(
    reader_client, reader, db, django_assert_num_queries
):
    texts = [make_text(30) for _ in range(3)]
    reader_client.get("/")
    none_read = count_queries(reader_client, "/")
    for text in texts:
        read_all(reader, text)

    with django_assert_num_queries(none_read):
        response = reader_client.get("/")

    assert response.content.decode().count("Finished: review the passages") == 3


def test_home_anonymous_query_count_does_not_grow_with_texts(client, db, django_assert_num_queries):
    make_text(3)
    one = count_queries(client, "/")
    for _ in range(9):
        make_text(30)

    with django_assert_num_queries(one):
        response = client.get("/")

    assert response.content.decode().count("Start reading") == 10


# A passage page's reading state, in one query ------------------------------------


def test_passage_reading_counts_the_text_and_this_passage_in_one_query(
    reader, essay, django_assert_num_queries
):
    third = essay.passages.get(position=3)
    for position in (1, 3, 4):
        services.progress_set(
            reader=reader, passage=essay.passages.get(position=position), read=True
        )
    services.progress_set(
        reader=make_user("someone-else"), passage=essay.passages.get(position=2), read=True
    )
    with django_assert_num_queries(1):
        at_third = passage_reading(user=reader, passage=third)
    assert at_third == PassageReading(progress=Progress(read=3, total=10), is_read=True)
    second = passage_reading(user=reader, passage=essay.passages.get(position=2))
    assert second == PassageReading(progress=Progress(read=3, total=10), is_read=False)


def test_passage_reading_of_a_visitor_is_nothing_and_asks_nothing(essay, django_assert_num_queries):
    first = essay.passages.get(position=1)
    with django_assert_num_queries(0):
        state = passage_reading(user=AnonymousUser(), passage=first)
    assert state == PassageReading(progress=None, is_read=False)
