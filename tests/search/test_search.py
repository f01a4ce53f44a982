"""Search: passages and the reader's own discussions, ranked, stemmed, private."""

import re
from urllib.parse import quote_plus

import pytest

from discussions.services import answer_save, comment_create, comment_hide, question_create
from search.forms import QUERY_MAX_LENGTH
from search.selectors import Filters, marked, search, text_query
from tests.factories import make_group, make_user


def hits(user, query, **filters):
    return search(user=user, query=query, filters=Filters(**filters)).hits


def titles(user, query, **filters):
    return [hit.title for hit in hits(user, query, **filters)]


@pytest.fixture
def anonymous():
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def test_search_finds_passages_by_english_stem(essay, anonymous):
    # "organizations" finds "organizational" (passages 1, 2 and others)
    found = titles(anonymous, "organizations")
    assert found
    assert all(title.startswith("Anatomy of the Sect, passage ") for title in found)
    assert "Anatomy of the Sect, passage 1" in found


def test_search_phrase_and_exclusion(essay, anonymous):
    assert titles(anonymous, '"critical mass"') == ["Anatomy of the Sect, passage 8"]
    assert titles(anonymous, '"critical mass" -miniaturize') == []


def test_search_prefix_of_the_last_word_while_typing(essay, anonymous):
    assert "Anatomy of the Sect, passage 8" in titles(anonymous, "critical ma")
    assert "Anatomy of the Sect, passage 7" in titles(anonymous, "miniatur")


def test_search_misspelt_word_finds_its_passage_by_trigrams(essay, anonymous):
    results = search(user=anonymous, query="miniturize", filters=Filters())
    assert results.similar is True
    assert "Anatomy of the Sect, passage 7" in [hit.title for hit in results.hits]


def test_search_snippet_marks_the_words_and_escapes_the_rest(essay, anonymous):
    snippet = hits(anonymous, '"critical mass"')[0].snippet
    assert "<mark>critical</mark> <mark>mass</mark>" in snippet


def test_marked_escapes_html_and_balances_markers():
    assert marked("<b>\x02x\x03</b>") == "&lt;b&gt;<mark>x</mark>&lt;/b&gt;"
    assert marked("\x03a\x02\x02b") == "a<mark>b</mark>"


@pytest.mark.parametrize(
    "query", ["", "a", "-", '"', "!:*&|", "!!!", "  ", "'", "(", "a:*", "the", "é"]
)
def test_text_query_of_hostile_input_is_none_or_harmless(essay, anonymous, query):
    results = search(user=anonymous, query=query, filters=Filters())
    assert results.hits == [] or results.page is not None


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a",
        "-",
        '"',
        "!:*&|",
        "!:*&|" * 100,
        "sect\x00ion",
        "\ud800sect",
        "x" * 10_000,
        "'sect':* & !",
        "<script>alert(1)</script>",
        "café organi",
        "ab\u0301c",
    ],
)
def test_search_page_answers_hostile_queries(client, essay, member, group, raw):
    client.force_login(member)
    query = quote_plus(raw.encode("utf-8", "surrogatepass"))
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get(f"/search/?q={query}", headers=headers)
        assert response.status_code == 200
        assert b"<script>alert" not in response.content


def test_search_page_says_the_long_query_was_cut(client, essay):
    response = client.get("/search/", {"q": "sect " * 100})
    assert response.status_code == 200
    assert f"Only the first {QUERY_MAX_LENGTH} characters".encode() in response.content


def test_search_page_without_query_shows_the_form(client, essay):
    response = client.get("/search/")
    assert response.status_code == 200
    assert b'role="search"' in response.content
    assert b"Nothing found" not in response.content


def test_search_one_letter_says_type_more(client, essay):
    response = client.get("/search/", {"q": "a"})
    assert b"Type at least two letters." in response.content


def test_search_only_exclusions_asks_for_a_word(essay, anonymous):
    results = search(user=anonymous, query="-sect -party", filters=Filters())
    assert results.hits == []
    assert results.message == "Add a word to find, not only words to leave out."


def test_text_query_prefix_only_for_a_plain_last_word():
    assert text_query("x") is None
    assert text_query("!:*&|") is None
    assert text_query('"critical ma') is not None  # inside quotes: no prefix term


def test_search_htmx_renders_only_the_results_and_their_status(client, essay):
    response = client.get("/search/", {"q": "sect"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    status, results = response.content.decode().strip().split("\n", 1)
    count = response.context["results"].page.paginator.count
    assert status == (
        '<p id="search-status" class="visually-hidden" role="status" data-hx-swap-oob="true">'
        f"{count} results</p>"
    )
    assert results.startswith('<section id="search-results"')
    assert "<h1" not in results


def test_search_pages_results_without_javascript(client, essay, group, member):
    passage = essay.passages.get(position=1)
    for n in range(25):
        comment_create(author=member, group=group, passage=passage, body=f"Leaflet {n}.")
    client.force_login(member)
    first = client.get("/search/", {"q": "leaflet", "kind": "discussions"})
    assert first.context["results"].page.paginator.count == 25
    assert len(first.context["results"].hits) == 20
    assert b'href="?q=leaflet&amp;kind=discussions&amp;page=2" rel="next"' in first.content
    second = client.get("/search/", {"q": "leaflet", "kind": "discussions", "page": "2"})
    assert len(second.context["results"].hits) == 5
    junk = client.get("/search/", {"q": "leaflet", "page": "x\x00"})
    assert junk.status_code == 200


def test_header_has_a_labelled_search_form(client, essay):
    response = client.get("/")
    content = response.content.decode()
    assert 'role="search"' in content
    assert '<label for="site-search-q"' in content
    assert 'action="/search/"' in content


# Privacy ------------------------------------------------------------------------


@pytest.fixture
def two_groups(essay):
    facilitator, member, author = make_user("fac"), make_user("mem"), make_user("auth")
    stranger = make_user("stranger")
    group = make_group(essay, facilitator=facilitator, name="Circle", members=[member, author])
    other = make_group(essay, facilitator=stranger, name="Elsewhere")
    passage = essay.passages.get(position=2)
    comment_create(author=member, group=group, passage=passage, body="Bolshevik discipline here.")
    hidden = comment_create(
        author=author, group=group, passage=passage, body="Bolshevik discipline hidden."
    )
    comment_hide(moderator=facilitator, comment=hidden, reason="Off topic.")
    comment_create(
        author=stranger, group=other, passage=passage, body="Bolshevik discipline elsewhere."
    )
    deleted = comment_create(
        author=member, group=group, passage=passage, body="Bolshevik discipline deleted."
    )
    from discussions.services import comment_delete

    comment_delete(user=member, comment=deleted)
    question = question_create(
        facilitator=facilitator,
        group=group,
        body="Is Bolshevik discipline a method?",
        first_position=2,
        last_position=2,
        answer_first=True,
    )
    answer_save(author=author, question=question, body="Bolshevik discipline is answered.")
    return {
        "facilitator": facilitator,
        "member": member,
        "author": author,
        "outsider": make_user("outsider"),
        "group": group,
        "question": question,
    }


WHICH = re.compile(r"here|hidden|elsewhere|deleted|method|answered")


def snippets(user, **filters):
    """The comments and questions found, each by the last word of its body."""
    return sorted(
        WHICH.search(str(hit.snippet)).group()
        for hit in hits(user, "bolshevik discipline", kind="discussions", **filters)
    )


def test_search_privacy_member_sees_neither_hidden_nor_unanswered(two_groups):
    assert snippets(two_groups["member"]) == ["here", "method"]


def test_search_privacy_member_sees_answers_after_answering(two_groups):
    answer_save(author=two_groups["member"], question=two_groups["question"], body="Mine.")
    assert snippets(two_groups["member"]) == ["answered", "here", "method"]


def test_search_privacy_author_sees_own_hidden_comment(two_groups):
    assert snippets(two_groups["author"]) == ["answered", "here", "hidden", "method"]


def test_search_privacy_facilitator_sees_hidden_and_answers(two_groups):
    assert snippets(two_groups["facilitator"]) == ["answered", "here", "hidden", "method"]


def test_search_privacy_outsider_and_anonymous_see_no_discussion(two_groups, anonymous):
    assert snippets(two_groups["outsider"]) == []
    assert snippets(anonymous) == []
    assert search(
        user=anonymous, query="bolshevik", filters=Filters(kind="discussions")
    ).message == ("Log in to search your groups' discussions.")


def test_search_privacy_another_groups_slug_gives_nothing(two_groups):
    results = search(
        user=two_groups["member"],
        query="bolshevik discipline",
        filters=Filters(group_slug="elsewhere"),
    )
    assert results.hits == []
    assert results.message == "That group is not one of yours: showing nothing from it."


def test_search_filters_author_and_questions(two_groups):
    facilitator = two_groups["facilitator"]
    assert snippets(facilitator, author="auth") == ["answered", "hidden"]
    assert snippets(facilitator, questions_only=True) == ["answered", "method"]
    assert snippets(facilitator, group_slug=two_groups["group"].slug) == snippets(facilitator)


def test_search_comment_links_to_the_comment_on_its_passage(two_groups, client):
    client.force_login(two_groups["member"])
    response = client.get("/search/", {"q": "bolshevik here", "kind": "discussions"})
    hit = response.context["results"].hits[0]
    comment_pk = hit.url.rpartition("#comment-")[2]
    assert (
        hit.url
        == f"/texts/anatomy-of-the-sect/2/?group={two_groups['group'].slug}#comment-{comment_pk}"
    )
    assert hit.kind == "comment"
    assert hit.author == "mem"
