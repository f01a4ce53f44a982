"""A quote a revision detached is re-attached to new words by its author or a facilitator."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pytest_django.asserts import assertContains, assertNotContains

from discussions.models import Comment
from discussions.services import comment_create, comment_quote_reattach
from reading.services import SHIPPED_ESSAY, text_revise
from tests.discussions.helpers import HTMX, comment_url, passage_url

QUOTED = "we have seen three approaches so far"


@pytest.fixture
def detached(essay, group, member, passage):
    """The member's comment on passage 1 whose quoted words a revision rewrote."""
    comment = comment_create(
        author=member, group=group, passage=passage, body="Which three?", quote=QUOTED
    )
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    text_revise(text=essay, source=source.replace(QUOTED, "nothing is worth a name in all this"))
    comment.refresh_from_db()
    assert comment.quote_detached_at is not None
    return comment


def reattach_url(group, comment) -> str:
    return comment_url(group, comment, "quote")


def test_detached_quote_offers_reattaching_to_its_author(member_client, group, detached):
    page = member_client.get(passage_url(group))

    assertContains(page, "Detached: these words are no longer in the passage.")
    assertContains(page, reattach_url(group, detached))


def test_author_reattaches_to_new_words(member_client, group, detached, passage):
    response = member_client.post(reattach_url(group, detached), {"quote": "worth a name"})

    assert response["Location"].endswith(f"#comment-{detached.pk}")
    assert response.status_code == 302
    comment = Comment.objects.get(pk=detached.pk)
    body = comment.passage.body
    assert body[comment.quote_start : comment.quote_end] == "worth a name"
    assert comment.quote_detached_at is None
    assert comment.quote_original == QUOTED
    page = member_client.get(passage_url(group)).content.decode()
    assert "Re-attached to these words on" in page
    assert f"first quoted as “{QUOTED}”" in page
    assert f'id="quote-{comment.pk}"' in page  # highlighted in the passage again
    assert "Re-anchored approximately" not in page


def test_facilitator_reattaches_with_htmx_and_the_position_given(
    facilitator_client, group, detached
):
    body = detached.passage.body
    start = body.index("the")
    second = body.index("the", start + 1)

    form = facilitator_client.get(reattach_url(group, detached), headers=HTMX)
    response = facilitator_client.post(
        reattach_url(group, detached), {"quote": "the", "quote_start": second}, headers=HTMX
    )

    assertContains(form, 'id="reattach-form-')
    assertNotContains(form, "<html")
    assert response.status_code == 200
    assert response["HX-Redirect"].endswith(f"#comment-{detached.pk}")
    assert Comment.objects.get(pk=detached.pk).quote_start == second


@pytest.mark.parametrize(
    ("quote", "message"),
    [
        ("", "Choose the words of the passage this comment is about."),
        ("   ", "Choose the words of the passage this comment is about."),
        ("words that are nowhere", "That phrase is not in this passage."),
        ("a\x00b", "Null characters are not allowed."),
        ("x" * 5_000, "Ensure this value has at most"),
    ],
)
def test_bad_words_are_refused_and_change_nothing(member_client, group, detached, quote, message):
    before = Comment.objects.filter(pk=detached.pk).values().get()

    response = member_client.post(reattach_url(group, detached), {"quote": quote})

    assert response.status_code == 200
    assertContains(response, message)
    assert Comment.objects.filter(pk=detached.pk).values().get() == before


def test_other_members_and_outsiders_cannot_reattach(
    other_client, outsider_client, group, detached
):
    url = reattach_url(group, detached)

    assert other_client.get(url).status_code == 403
    assert other_client.post(url, {"quote": "worth a name"}).status_code == 403
    assert outsider_client.post(url, {"quote": "worth a name"}).status_code == 404
    assert Comment.objects.get(pk=detached.pk).quote_detached_at is not None


def test_an_attached_quote_is_not_reattached(member_client, group, member, passage):
    comment = comment_create(
        author=member, group=group, passage=passage, body="Which?", quote=QUOTED
    )

    assert (
        member_client.post(reattach_url(group, comment), {"quote": "To sum up"}).status_code == 403
    )
    with pytest.raises(PermissionDenied):
        comment_quote_reattach(user=member, comment=comment, quote="To sum up")


def test_service_refuses_words_not_in_the_passage(member, detached):
    with pytest.raises(ValidationError):
        comment_quote_reattach(user=member, comment=detached, quote="not there at all")
