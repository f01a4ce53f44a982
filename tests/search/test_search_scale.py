"""Search at scale: 100,000 comments, a bounded number of queries, and the GIN index."""

from search.selectors import Filters, search, text_query, visible_comments
from tests.search.corpus import RARE_EVERY, RARE_WORD, insert_comments

COMMENTS = 100_000


def test_search_over_100000_comments_uses_the_index_and_few_queries(
    essay, group, member, django_assert_num_queries
):
    insert_comments(
        group=group, passage=essay.passages.get(position=3), author=member, count=COMMENTS
    )
    memberships = list(member.memberships.select_related("group"))
    comments = visible_comments(memberships).filter(search_vector=text_query(RARE_WORD))
    plan = comments.values("pk").explain()
    assert "Bitmap Index Scan on comment_search_vector" in plan, plan
    assert "Seq Scan on discussions_comment" not in plan, plan

    # memberships, count, the page's ids, the page's comments with their snippets
    with django_assert_num_queries(4):
        results = search(user=member, query=RARE_WORD, filters=Filters())
    assert results.page.paginator.count == COMMENTS // RARE_EVERY
    assert len(results.hits) == 20
    assert all("<mark>samizdat</mark>" in hit.snippet for hit in results.hits)


def test_search_page_queries_do_not_grow_with_results(
    client, essay, group, member, django_assert_max_num_queries
):
    insert_comments(group=group, passage=essay.passages.get(position=3), author=member, count=5_000)
    client.force_login(member)
    with django_assert_max_num_queries(12):
        response = client.get("/search/", {"q": "discipline"})
    assert response.status_code == 200
    assert len(response.context["results"].hits) == 20
