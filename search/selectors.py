"""Reads for search: passages of the texts, and the discussions of the reader's groups.

PostgreSQL full-text search over stored, GIN-indexed `search_vector` columns (English
stems), `websearch_to_tsquery` for what the reader typed plus a prefix term for the
word still being typed, and pg_trgm's word similarity for misspelt words when the
text search finds nothing. Comments go through the same rules as the pages
(groups.permissions' SQL twins), one membership at a time.

One page of results costs a fixed number of queries however much there is: the
memberships, a count and a page of (kind, id, rank) over all three tables, then the
page's rows with their snippets, one query per kind.
"""

import html
import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.paginator import Page, Paginator
from django.db.models import F, Q, Value
from django.utils.safestring import SafeString, mark_safe

from discussions.models import Comment, Question
from groups import permissions
from groups.models import Membership
from reading.models import Passage

CONFIG = "english"
RESULTS_PER_PAGE = 20
MIN_QUERY_LETTERS = 2
# Snippet markers: characters no one types, escaped with the rest and then made <mark>.
START, STOP = "\x02", "\x03"
HEADLINE_OPTIONS = {"max_words": 30, "min_words": 12, "short_word": 3, "max_fragments": 2}
# A word a prefix query may end with: letters and digits only, so that the raw
# `word:*` tsquery is built from nothing the reader could use as an operator.
PREFIX_WORD = re.compile(r"(?:^|\s)([A-Za-z0-9]{2,60})$")
LETTERS = re.compile(r"[^\W_]", re.UNICODE)
TRIGRAM_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)
# Phrases and exclusions are deliberate: no guessing at misspellings then.
OPERATORS = re.compile(r'"|(?:^|\s)-')


@dataclass(frozen=True)
class Filters:
    kind: str = ""  # "", "passages" or "discussions"
    group_slug: str = ""
    author: str = ""
    questions_only: bool = False


@dataclass(frozen=True)
class SearchHit:
    kind: str  # "passage", "comment", "answer", "reply" or "question"
    title: str  # where it is: the text and passage, the group
    url: str
    snippet: SafeString
    author: str = ""
    group_name: str = ""


@dataclass(frozen=True)
class SearchResults:
    page: Page | None
    hits: list[SearchHit]
    similar: bool = False  # found by trigram similarity (a misspelling?), not the words
    message: str = ""


def text_query(query: str) -> SearchQuery | None:
    """The tsquery for what the reader typed: websearch syntax ("phrases", -word, or),
    OR the same with its last word as a prefix while it is being typed. None when
    there is nothing to search for."""
    if len(LETTERS.findall(query)) < MIN_QUERY_LETTERS or not has_a_word_to_find(query):
        return None
    typed = SearchQuery(query, search_type="websearch", config=CONFIG)
    last = PREFIX_WORD.search(query)
    if last is None or query.count('"') % 2:
        return typed
    head = query[: last.start(1)].strip()
    prefix = SearchQuery(f"{last.group(1)}:*", search_type="raw", config=CONFIG)
    if head and LETTERS.search(head):
        prefix = SearchQuery(head, search_type="websearch", config=CONFIG) & prefix
    return typed | prefix


def has_a_word_to_find(query: str) -> bool:
    """Not only words to leave out ("-sect" alone would match nearly everything, and no
    index serves a query without a word to find)."""
    return any(
        LETTERS.search(token) and not token.startswith("-") and token.lower() != "or"
        for token in query.split()
    )


def marked(headline: str) -> SafeString:
    """A ts_headline result as HTML: everything escaped, then the markers made <mark>
    (balanced, whatever markers the text itself held)."""
    out, open_ = [], False
    for part in re.split(f"([{START}{STOP}])", headline):
        if part == START:
            if not open_:
                out.append("<mark>")
                open_ = True
        elif part == STOP:
            if open_:
                out.append("</mark>")
                open_ = False
        else:
            out.append(html.escape(part))
    if open_:
        out.append("</mark>")
    return mark_safe("".join(out))  # noqa: S308 - escaped above


def _headline(query) -> SearchHeadline:
    return SearchHeadline(
        "body", query, config=CONFIG, start_sel=START, stop_sel=STOP, **HEADLINE_OPTIONS
    )


def visible_comments(memberships: list[Membership]):
    """The comments these memberships (one reader's) may read: an OR over their groups
    of the pages' rules (hidden comments, answer first), never deleted ones."""
    if not memberships:
        return Comment.objects.none()
    user_id = memberships[0].user_id
    answered = Comment.objects.answers().filter(author_id=user_id).values("question_id")
    allowed = Q()
    for membership in memberships:
        allowed |= (
            Q(group_id=membership.group_id)
            & permissions.hidden_comment_filter(membership)
            & permissions.answers_filter(membership, answered)
        )
    return Comment.objects.filter(allowed, deleted_at__isnull=True)


def _ranked(queryset, kind: str, vector_match, query):
    return (
        queryset.filter(vector_match)
        .annotate(kind=Value(kind), rank=SearchRank(F("search_vector"), query))
        .values_list("kind", "pk", "rank")
        .order_by()
    )


def search(*, user, query: str, filters: Filters, page_number=None) -> SearchResults:
    tsquery = text_query(query)
    if tsquery is None:
        if not query:
            message = "Type a word or two to search."
        elif len(LETTERS.findall(query)) < MIN_QUERY_LETTERS:
            message = "Type at least two letters."
        else:
            message = "Add a word to find, not only words to leave out."
        return SearchResults(page=None, hits=[], message=message)

    memberships = []
    if user.is_authenticated:
        memberships = list(
            Membership.objects.filter(user=user).select_related("group__text").order_by("pk")
        )
    message = ""
    if filters.group_slug:
        chosen = [m for m in memberships if m.group.slug == filters.group_slug]
        if not chosen:
            message = "That group is not one of yours: showing nothing from it."
        memberships = chosen

    want_passages = filters.kind in ("", "passages") and not (
        filters.author or filters.questions_only
    )
    want_discussions = filters.kind in ("", "discussions")
    if filters.group_slug and not memberships:
        want_passages = want_discussions = False

    passages = Passage.objects.all()
    if filters.group_slug and memberships:
        passages = passages.filter(text_id=memberships[0].group.text_id)
    comments = visible_comments(memberships)
    questions = Question.objects.filter(group_id__in=[m.group_id for m in memberships])
    if filters.author:
        comments = comments.filter(author__username=filters.author)
        questions = questions.filter(created_by__username=filters.author)
    if filters.questions_only:
        comments = comments.filter(question__isnull=False)

    match = Q(search_vector=tsquery)
    parts = []
    if want_passages:
        parts.append(_ranked(passages, "passage", match, tsquery))
    if want_discussions and memberships:
        parts.append(_ranked(comments, "comment", match, tsquery))
        parts.append(_ranked(questions, "question", match, tsquery))
    if not parts:
        if not message:
            message = (
                "Nothing found with these filters."
                if user.is_authenticated
                else "Log in to search your groups' discussions."
            )
        return SearchResults(page=None, hits=[], message=message)

    ranked = parts[0].union(*parts[1:], all=True).order_by("-rank", "kind", "pk")
    page = Paginator(ranked, RESULTS_PER_PAGE).get_page(page_number)
    similar = False
    if page.paginator.count == 0 and want_passages and not OPERATORS.search(query):
        # Nothing has these words: passages with words like each of them (misspelt?).
        # `%>` (word similarity), which the body's trigram index serves.
        words = TRIGRAM_WORD.findall(query)
        if words:
            close = Q()
            for word in words[:5]:
                close &= Q(body__trigram_word_similar=word.lower())
            nearby = passages.filter(close).annotate(kind=Value("passage"), rank=Value(0.0))
            page = Paginator(
                nearby.values_list("kind", "pk", "rank").order_by("text_id", "position"),
                RESULTS_PER_PAGE,
            ).get_page(page_number)
            similar = page.paginator.count > 0
    hits = _hits(list(page.object_list), tsquery, memberships)
    return SearchResults(page=page, hits=hits, similar=similar, message=message)


def _hits(rows, tsquery, memberships) -> list[SearchHit]:
    """The page's rows with their snippets and links: one query per kind."""
    ids = {
        kind: [pk for k, pk, _ in rows if k == kind] for kind in ("passage", "comment", "question")
    }
    groups = {m.group_id: m.group for m in memberships}
    found: dict[tuple[str, int], SearchHit] = {}
    if ids["passage"]:
        for passage in (
            Passage.objects.filter(pk__in=ids["passage"])
            .select_related("text")
            .annotate(snippet=_headline(tsquery))
        ):
            found["passage", passage.pk] = SearchHit(
                kind="passage",
                title=f"{passage.text.title}, passage {passage.position}",
                url=passage.get_absolute_url(),
                snippet=marked(passage.snippet),
            )
    if ids["comment"]:
        for comment in (
            Comment.objects.filter(pk__in=ids["comment"])
            .select_related("passage", "author")
            .annotate(snippet=_headline(tsquery))
        ):
            group = groups[comment.group_id]
            kind = "answer" if comment.is_answer else "reply" if comment.parent_id else "comment"
            found["comment", comment.pk] = SearchHit(
                kind=kind,
                title=_passage_title(group, comment.passage),
                url=group.passage_url(comment.passage.position, f"comment-{comment.pk}"),
                snippet=marked(comment.snippet),
                author=comment.author.username if comment.author else "A former member",
                group_name=group.name,
            )
    if ids["question"]:
        for question in (
            Question.objects.filter(pk__in=ids["question"])
            .select_related("created_by")
            .annotate(snippet=_headline(tsquery))
        ):
            group = groups[question.group_id]
            question.group = group
            found["question", question.pk] = SearchHit(
                kind="question",
                title=f"Question on {question.passage_range_label}",
                url=question.get_absolute_url(),
                snippet=marked(question.snippet),
                author=question.created_by.username if question.created_by else "",
                group_name=group.name,
            )
    return [found[kind, pk] for kind, pk, _ in rows if (kind, pk) in found]


def _passage_title(group, passage: Passage) -> str:
    if passage.position is None:
        return f"{group.text.title}, a passage no longer in the text"
    return f"{group.text.title}, passage {passage.position}"
