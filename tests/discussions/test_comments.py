"""Threaded comments on a passage: posting, replies, quotes, editing, deleting,
moderation, pins, helpful marks, access, and invalid input."""

import json
import re
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.contrib.messages import get_messages
from django.utils import dateformat, timezone
from pytest_django.asserts import assertContains

from discussions import services
from discussions.models import Comment, HelpfulMark
from reading.models import Text
from reading.services import SHIPPED_ESSAY, SHIPPED_ESSAY_AUTHOR, text_import, text_revise
from tests.discussions.helpers import (
    ESSAY_URL,
    HTMX,
    comment_url,
    create_url,
    logged_in,
    passage_url,
    post_comment,
)
from tests.factories import make_group

PHRASE = "confining oneself only to individual militants"
PHRASE_START = 87
PHRASE_END = 133
QUOTE_START_ERROR = (
    '<div class="form-errors" role="alert">'
    "<p>The position of the quote was not understood. Select or paste it again.</p></div>"
)


def page(client, group, position=1, slug="anatomy-of-the-sect", **params) -> str:
    response = client.get(f"/texts/{slug}/{position}/?group={group.slug}", params)
    assert response.status_code == 200
    return response.content.decode()


def textarea_value(html: str, element_id: str) -> str:
    match = re.search(rf'<textarea[^>]*id="{element_id}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    assert match is not None, element_id
    return match.group(1)


def self_order(html: str) -> list[int]:
    """The comments whose own part (without replies) a response carries."""
    return [int(pk) for pk in re.findall(r'id="comment-self-(\d+)"', html)]


def comment_order(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<article class="comment[^"]*"\s+id="comment-(\d+)"', html)
    ]


def message_texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def corrected_essay(old: str, new: str):
    source = SHIPPED_ESSAY.read_text(encoding="utf-8")
    assert source.count(old) == 1
    text = Text.objects.get(slug="anatomy-of-the-sect")
    return text_revise(text=text, source=source.replace(old, new), author=SHIPPED_ESSAY_AUTHOR)


# Posting -------------------------------------------------------------------------


def test_comment_create_without_htmx_redirects_to_the_comment(member_client, member, group):
    response = member_client.post(create_url(group), {"body": "Is the *sect* a choice?"})

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{comment.pk}"
    assert comment.author == member
    assert comment.parent is None
    assert comment.passage.position == 1
    assert comment.body == "Is the *sect* a choice?"
    assert comment.body_html == "<p>Is the <em>sect</em> a choice?</p>\n"


def test_comment_create_without_htmx_shows_comment_after_redirect(member_client, group):
    response = member_client.post(create_url(group), {"body": "First thoughts."}, follow=True)

    comment = Comment.objects.get()
    assertContains(response, "Your comment is posted.", count=1)
    assertContains(response, f'id="comment-{comment.pk}"', count=1)
    assertContains(response, '<div class="comment-body"><p>First thoughts.</p>\n</div>', count=1)


def test_comment_create_with_htmx_on_a_quote_returns_the_passage_highlighted_out_of_band(
    member_client, group, passage
):
    words = passage.body.split()[2:4]
    phrase = " ".join(words)
    start = passage.body.index(phrase)

    response = member_client.post(
        create_url(group),
        {"body": "On these words.", "quote": phrase, "quote_start": start},
        headers=HTMX,
    )

    comment = Comment.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert comment_order(html) == [comment.pk]
    highlighted = re.search(r'<p id="passage-text" data-hx-swap-oob="true">(.*?)</p>', html, re.S)
    assert highlighted is not None
    assert (
        f'<mark id="quote-{comment.pk}" data-comments="{comment.pk}">'
        f'<a href="#comment-{comment.pk}" class="quote-link">{phrase}</a></mark>'
    ) in highlighted.group(1)


def test_comment_create_with_htmx_returns_the_comment_fragment(member_client, group):
    response = member_client.post(create_url(group), {"body": "By htmx."}, headers=HTMX)

    comment = Comment.objects.get()
    html = response.content.decode()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"comment-posted": {"id": comment.pk}}
    assert comment_order(html) == [comment.pk]
    assert f'<article class="comment indent-0" id="comment-{comment.pk}"' in html
    assert f'<div class="comment-self is-own"\n     id="comment-self-{comment.pk}">' in html
    assert '<span class="badge-own">you</span>' in html
    assert '<div class="comment-body"><p>By htmx.</p>\n</div>' in html
    # No quote: the passage is not sent again.
    assert 'id="passage-text"' not in html
    assert '<p class="empty-thread" id="empty-thread" hidden data-hx-swap-oob="true"></p>' in html
    assert "<html" not in html


def test_comment_reply_without_htmx_redirects_to_the_reply(
    member_client, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    response = member_client.post(create_url(group), {"body": "Reply.", "parent": parent.pk})

    reply = Comment.objects.get(parent=parent)
    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{reply.pk}"
    assert reply.body == "Reply."


def test_comment_reply_with_htmx_returns_indented_fragment(
    member_client, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    response = member_client.post(
        create_url(group), {"body": "Reply.", "parent": parent.pk}, headers=HTMX
    )

    reply = Comment.objects.get(parent=parent)
    html = response.content.decode()
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"comment-posted": {"id": reply.pk}}
    assert comment_order(html) == [reply.pk]
    assert f'<article class="comment indent-1" id="comment-{reply.pk}"' in html
    assert f'<div class="comment-self is-own"\n     id="comment-self-{reply.pk}">' in html
    assert (
        f'<div class="reply-slot" id="reply-slot-{parent.pk}" data-hx-swap-oob="true"></div>'
        in html
    )


def test_comment_reply_form_page_has_real_action_and_parent(
    member_client, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    response = member_client.get(comment_url(group, parent, "reply"))

    assertContains(response, f'action="{create_url(group)}"', count=1)
    assertContains(
        response,
        f'<input type="hidden" name="parent" value="{parent.pk}" id="reply-parent-{parent.pk}">',
        count=1,
    )
    assertContains(response, "Your reply to facilitator", count=1)


def test_comment_create_empty_discussion_shows_empty_message(member_client, group):
    assertContains(
        member_client.get(passage_url(group)), "No comments yet. Start the conversation.", count=1
    )


# Depth ---------------------------------------------------------------------------


def build_chain(group, passage, users, length):
    comments = []
    parent = None
    for depth in range(length):
        parent = post_comment(
            users[depth % 2], group, passage, f"Depth {depth} words.", parent=parent
        )
        comments.append(parent)
    return comments


def test_comment_replies_to_depth_12_are_stored_with_their_parents(
    member, facilitator, group, passage
):
    chain = build_chain(group, passage, [member, facilitator], 12)

    assert [c.parent_id for c in chain] == [None] + [c.pk for c in chain[:-1]]


def test_passage_page_deep_thread_shows_its_first_replies_and_a_more_link(
    other_client, member, facilitator, group, passage
):
    chain = build_chain(group, passage, [member, facilitator], 12)

    html = page(other_client, group)

    # The thread's first six replies in time, then "show more" where it goes on.
    classes = re.findall(r'<article class="comment (indent-\d+)"', html)
    assert classes == ["indent-0", "indent-1", "indent-2", "indent-3"] + ["indent-4"] * 3
    assert comment_order(html) == [c.pk for c in chain[:7]]
    assert f'data-hx-get="{comment_url(group, chain[6])}?part=replies&amp;after=0"' in html
    assert html.count("Show 1 more reply") == 1


def test_comment_thread_page_deep_indentation_stops_at_four(
    other_client, member, facilitator, group, passage
):
    chain = build_chain(group, passage, [member, facilitator], 12)

    html = other_client.get(comment_url(group, chain[0])).content.decode()

    classes = re.findall(r'<article class="comment (indent-\d+)"', html)
    assert classes == ["indent-0", "indent-1", "indent-2", "indent-3"] + ["indent-4"] * 8
    assert comment_order(html) == [c.pk for c in chain]


def test_comment_thread_page_deep_replies_say_whom_they_answer(
    other_client, member, facilitator, group, passage
):
    build_chain(group, passage, [member, facilitator], 12)
    root = Comment.objects.get(parent=None)

    html = other_client.get(comment_url(group, root)).content.decode()

    # Depths 4..11 say whom they answer; depth 4 (by member) answers depth 3 (facilitator).
    assert re.findall(r'<span class="replying-to">replying to @(\w+)</span>', html) == [
        "facilitator", "member", "facilitator", "member",
        "facilitator", "member", "facilitator", "member",
    ]  # fmt: skip


def test_comment_more_replies_beyond_depth_8_link_to_continue_the_thread(
    other_client, member, facilitator, group, passage
):
    chain = build_chain(group, passage, [member, facilitator], 12)

    html = other_client.get(
        comment_url(group, chain[6]), {"part": "replies", "after": 0}, headers=HTMX
    ).content.decode()

    assert comment_order(html) == [chain[7].pk, chain[8].pk]
    assert (
        f'<p><a href="{comment_url(group, chain[8])}">Continue this thread (3 more replies)</a></p>'
        in html
    )
    assert html.count("Continue this thread") == 1


def test_comment_thread_continue_link_shows_the_deepest_replies(
    other_client, member, facilitator, group, passage
):
    chain = build_chain(group, passage, [member, facilitator], 12)

    response = other_client.get(comment_url(group, chain[8]))

    html = response.content.decode()
    assert response.status_code == 200
    assert comment_order(html) == [c.pk for c in chain[8:]]
    assert re.findall(r'<article class="comment (indent-\d+)', html) == ["indent-4"] * 4
    assert "Continue this thread" not in html
    assert "Depth 11 words." in html


# Quotes --------------------------------------------------------------------------


def test_comment_create_pasted_quote_with_other_whitespace_is_anchored(member_client, group):
    pasted = "confining oneself\n   only to\tindividual\r\nmilitants "

    response = member_client.post(create_url(group), {"body": "Why?", "quote": pasted})

    comment = Comment.objects.get()
    assert response.status_code == 302
    assert comment.quote_exact == PHRASE
    assert comment.quote_prefix == " can throw out: the approach of "
    assert comment.quote_suffix == " without any political center. T"
    assert (comment.quote_start, comment.quote_end) == (PHRASE_START, PHRASE_END)


def test_comment_create_quote_start_picks_the_second_occurrence(member_client, group):
    member_client.post(
        create_url(group), {"body": "Which?", "quote": "political center", "quote_start": "196"}
    )

    comment = Comment.objects.get()
    assert (comment.quote_start, comment.quote_end) == (196, 212)
    assert comment.quote_prefix == "The real problem is whether the "


def test_comment_create_quote_without_start_picks_the_first_occurrence(member_client, group):
    member_client.post(create_url(group), {"body": "Which?", "quote": "political center"})

    comment = Comment.objects.get()
    assert (comment.quote_start, comment.quote_end) == (146, 162)


def test_comment_create_quote_not_in_passage_is_a_form_error(member_client, group):
    response = member_client.post(
        create_url(group),
        {"body": "My carefully typed\nthoughts.", "quote": "words the essay never says"},
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "That phrase is not in this passage. Copy it exactly." in html
    assert textarea_value(html, "id_body") == "My carefully typed\nthoughts."
    assert 'value="words the essay never says"' in html
    assert Comment.objects.count() == 0


def test_comment_create_quote_not_in_passage_with_htmx_retargets_the_form(member_client, group):
    response = member_client.post(
        create_url(group), {"body": "Typed.", "quote": "not there at all"}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#comment-form"
    assert response["HX-Reswap"] == "outerHTML"
    assert "That phrase is not in this passage. Copy it exactly." in html
    assert textarea_value(html, "id_body") == "Typed."
    assert Comment.objects.count() == 0


def test_passage_page_highlights_the_quoted_phrase(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "On this.", quote=PHRASE)

    html = page(member_client, group)

    assert (
        f'the approach of <mark id="quote-{comment.pk}" data-comments="{comment.pk}">'
        f'<a href="#comment-{comment.pk}" class="quote-link">{PHRASE}</a></mark> without any'
    ) in html
    assert f'<a href="#quote-{comment.pk}">“{PHRASE}”</a>' in html


def test_passage_page_overlapping_quotes_each_get_a_target(member_client, member, group, passage):
    first = post_comment(member, group, passage, "One.", quote=PHRASE)
    second = post_comment(member, group, passage, "Two.", quote="individual militants without any")

    html = page(member_client, group)

    assert html.count(f'id="quote-{first.pk}"') == 1
    assert html.count(f'id="quote-{second.pk}"') == 1


def test_passage_page_quote_is_found_again_after_the_passage_is_corrected(
    member_client, member, group, passage
):
    comment = post_comment(member, group, passage, "On this.", quote=PHRASE)

    corrected_essay("To sum up: we have seen", "To sum up, as we said earlier: we have now seen")
    html = page(member_client, group)

    passage.refresh_from_db()
    start = passage.body.index(PHRASE)
    assert start != comment.quote_start
    assert (
        f'the approach of <mark id="quote-{comment.pk}" data-comments="{comment.pk}">'
        f'<a href="#comment-{comment.pk}" class="quote-link">{PHRASE}</a></mark> without any'
    ) in html
    assert "Detached" not in html


def test_passage_page_corrected_passage_keeps_quote_on_the_right_occurrence(
    member_client, member, group, passage
):
    comment = post_comment(
        member, group, passage, "Second one.", quote="political center", quote_start=196
    )

    corrected_essay("To sum up: we have seen", "To sum up: by now we have seen")
    html = page(member_client, group)

    assert (
        f'whether the <mark id="quote-{comment.pk}" data-comments="{comment.pk}">'
        f'<a href="#comment-{comment.pk}" class="quote-link">political center</a></mark> must'
    ) in html


def test_passage_page_quote_gone_after_correction_shows_detached(
    member_client, member, group, passage
):
    comment = post_comment(member, group, passage, "On this.", quote=PHRASE)

    corrected_essay(
        "confining oneself only to individual militants", "limiting oneself to single militants"
    )
    html = page(member_client, group)

    assert "Detached: these words are no longer in the passage." in html
    assert f"<p>“{PHRASE}”</p>" in html
    assert f'id="quote-{comment.pk}"' not in html
    assert f'href="#quote-{comment.pk}"' not in html


def test_comment_reply_ignores_a_quote(member_client, facilitator, group, passage):
    parent = post_comment(facilitator, group, passage, "Top.")

    member_client.post(create_url(group), {"body": "Reply.", "parent": parent.pk, "quote": PHRASE})

    reply = Comment.objects.get(parent=parent)
    assert (reply.quote_exact, reply.quote_start) == ("", None)


# Length --------------------------------------------------------------------------


def test_comment_create_over_10000_characters_is_a_clear_error(member_client, group):
    response = member_client.post(create_url(group), {"body": "a" * 10_001})

    assertContains(
        response,
        "Comments can be at most 10,000 characters long (this one has 10001).",
        count=1,
        status_code=422,
    )
    assert Comment.objects.count() == 0


def test_comment_create_exactly_10000_characters_is_accepted(member_client, group):
    response = member_client.post(create_url(group), {"body": "a" * 10_000})

    assert response.status_code == 302
    assert len(Comment.objects.get().body) == 10_000


def test_comment_reply_over_10000_characters_keeps_the_typed_reply(
    member_client, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    response = member_client.post(create_url(group), {"body": "b" * 10_001, "parent": parent.pk})

    html = response.content.decode()
    assert response.status_code == 422
    assert "Comments can be at most 10,000 characters long (this one has 10001)." in html
    assert textarea_value(html, f"reply-body-{parent.pk}") == "b" * 10_001
    # Drawn as the reply form, errors included: the field's aria-describedby finds them.
    assert f'<label for="reply-body-{parent.pk}">Your reply to facilitator:</label>' in html
    assert f'<ul class="errorlist" id="reply-body-{parent.pk}_error">' in html
    assert Comment.objects.count() == 1


# Editing -------------------------------------------------------------------------


def test_comment_edit_by_author_updates_and_shows_edited(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "First draft.")

    response = member_client.post(
        comment_url(group, comment, "edit"), {"body": "Second **draft**."}
    )

    comment.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{comment.pk}"
    assert comment.body == "Second **draft**."
    assert comment.body_html == "<p>Second <strong>draft</strong>.</p>\n"
    assert comment.edited_at is not None
    html = page(member_client, group)
    assert '<span class="edited">edited <time' in html
    assert "First draft." not in html


def test_comment_edit_form_shows_current_body(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "First draft.")

    response = member_client.get(comment_url(group, comment, "edit"))

    assert response.status_code == 200
    # Its own ids: the page's comment form keeps id_body (and its label) to itself.
    assert textarea_value(response.content.decode(), f"edit-body-{comment.pk}") == "First draft."
    assert 'for="id_body"' not in response.content.decode()


def test_comment_edit_with_htmx_returns_the_updated_comment(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "First draft.")

    response = member_client.post(
        comment_url(group, comment, "edit"), {"body": "Better."}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert self_order(html) == [comment.pk]
    assert comment_order(html) == []  # the comment alone: its replies stay on the page
    # The edit form closes.
    assert f'<div class="reply-slot" id="reply-slot-{comment.pk}" data-hx-swap-oob="true">' in html
    assert '<div class="comment-body"><p>Better.</p>\n</div>' in html
    assert '<span class="edited">edited' in html


def test_comment_edit_unchanged_body_is_not_marked_edited(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Same.")

    member_client.post(comment_url(group, comment, "edit"), {"body": "Same."})

    comment.refresh_from_db()
    assert comment.edited_at is None


def test_comment_edit_empty_body_is_a_form_error(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Keep me.")

    response = member_client.post(comment_url(group, comment, "edit"), {"body": "   "})

    assertContains(response, "Write something before posting.", count=1)
    comment.refresh_from_db()
    assert comment.body == "Keep me."


@pytest.mark.parametrize("method", ["get", "post"])
def test_comment_edit_by_another_member_is_forbidden(other_client, member, group, passage, method):
    comment = post_comment(member, group, passage, "Mine.")

    response = getattr(other_client, method)(
        comment_url(group, comment, "edit"), {"body": "Theirs."}
    )

    comment.refresh_from_db()
    assert response.status_code == 403
    assert (comment.body, comment.edited_at) == ("Mine.", None)


def test_comment_edit_by_facilitator_is_forbidden(facilitator_client, member, group, passage):
    comment = post_comment(member, group, passage, "Mine.")

    response = facilitator_client.post(comment_url(group, comment, "edit"), {"body": "Theirs."})

    comment.refresh_from_db()
    assert response.status_code == 403
    assert comment.body == "Mine."


def test_comment_edit_by_outsider_is_not_found(outsider_client, member, group, passage):
    comment = post_comment(member, group, passage, "Mine.")

    response = outsider_client.post(comment_url(group, comment, "edit"), {"body": "Theirs."})

    comment.refresh_from_db()
    assert response.status_code == 404
    assert comment.body == "Mine."


# Deleting ------------------------------------------------------------------------


def test_comment_delete_leaf_removes_it(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Regret this.")

    response = member_client.post(comment_url(group, comment, "delete"))

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#discussion"
    # Its words are gone; the row stays as a change open pages learn of (the poll).
    tombstone = Comment.objects.get()
    assert (tombstone.body, tombstone.body_html, tombstone.is_deleted) == ("", "", True)
    html = page(member_client, group)
    assert "Regret this." not in html
    assert f'id="comment-{comment.pk}"' not in html
    assert "No comments yet. Start the conversation." in html


def test_comment_delete_confirmation_page_has_a_real_form(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Regret this.")

    response = member_client.get(comment_url(group, comment, "delete"))

    assertContains(
        response,
        f'<form method="post" action="{comment_url(group, comment, "delete")}"'
        ' class="stacked-form confirm-form">',
    )
    assert Comment.objects.count() == 1


def test_comment_delete_with_htmx_returns_nothing_for_a_leaf(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Regret this.")

    response = member_client.post(comment_url(group, comment, "delete"), headers=HTMX)

    # The whole comment leaves the page; the count follows out of band.
    assert response.status_code == 200
    assert response.content.decode().strip() == (
        '<span class="meta" id="comment-count" data-hx-swap-oob="true">(0 comments)</span>'
        '<span id="jump-count" data-hx-swap-oob="true">0 comments</span>'
    )
    assert (response["HX-Retarget"], response["HX-Reswap"]) == (
        f"#comment-{comment.pk}",
        "outerHTML",
    )
    assert Comment.objects.get().is_deleted


def test_comment_delete_with_replies_leaves_a_tombstone(
    member_client, member, other_member, group, passage
):
    comment = post_comment(member, group, passage, "Regret this.")
    reply = post_comment(other_member, group, passage, "But I answered.", parent=comment)

    response = member_client.post(comment_url(group, comment, "delete"))

    comment.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{comment.pk}"
    assert (comment.body, comment.body_html) == ("", "")
    assert comment.deleted_at is not None
    assert Comment.objects.get(pk=reply.pk).parent_id == comment.pk
    html = page(member_client, group)
    assert (
        f'<p class="placeholder" id="comment-{comment.pk}-author">This comment was deleted.</p>'
        in html
    )
    assert "Regret this." not in html
    assert "But I answered." in html
    assert comment_order(html) == [comment.pk, reply.pk]


def test_comment_delete_tombstone_cannot_be_edited_deleted_or_answered(
    member_client, member, other_member, group, passage
):
    comment = post_comment(member, group, passage, "Regret this.")
    post_comment(other_member, group, passage, "But I answered.", parent=comment)
    services.comment_delete(user=member, comment=comment)

    assert member_client.post(comment_url(group, comment, "delete")).status_code == 404
    assert (
        member_client.post(comment_url(group, comment, "edit"), {"body": "Back!"}).status_code
        == 404
    )
    response = member_client.post(create_url(group), {"body": "To a ghost.", "parent": comment.pk})
    assertContains(
        response, "That comment was deleted; it can no longer be answered.", status_code=422
    )
    assert Comment.objects.count() == 2


@pytest.mark.parametrize("method", ["get", "post"])
def test_comment_delete_by_another_member_is_forbidden(
    other_client, member, group, passage, method
):
    comment = post_comment(member, group, passage, "Mine.")

    response = getattr(other_client, method)(comment_url(group, comment, "delete"))

    assert response.status_code == 403
    assert Comment.objects.filter(pk=comment.pk, deleted_at__isnull=True).count() == 1


def test_comment_delete_by_facilitator_is_forbidden(facilitator_client, member, group, passage):
    comment = post_comment(member, group, passage, "Mine.")

    assert facilitator_client.post(comment_url(group, comment, "delete")).status_code == 403
    assert Comment.objects.count() == 1


# Hiding --------------------------------------------------------------------------


def test_comment_hide_by_facilitator_stores_reason(
    facilitator_client, facilitator, member, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")

    response = facilitator_client.post(comment_url(group, comment, "hide"), {"reason": "Be kind."})

    comment.refresh_from_db()
    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{comment.pk}"
    assert (comment.hidden_reason, comment.hidden_by) == ("Be kind.", facilitator)
    assert comment.hidden_at is not None


def test_comment_hide_without_reason_is_a_form_error(facilitator_client, member, group, passage):
    comment = post_comment(member, group, passage, "Rude words.")

    response = facilitator_client.post(comment_url(group, comment, "hide"), {"reason": ""})

    assertContains(response, "Give the author a reason.", count=1)
    comment.refresh_from_db()
    assert comment.hidden_at is None


def test_passage_page_hidden_comment_is_absent_for_members(
    other_client, member, facilitator, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.", quote=PHRASE)
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    html = page(other_client, group)

    assert "Rude words." not in html
    assert "Be kind." not in html
    assert f"comment-{comment.pk}" not in html
    assert f"quote-{comment.pk}" not in html
    assert "(0 comments)" in html


def test_passage_page_hidden_comment_with_replies_is_a_placeholder_for_members(
    other_client, member, facilitator, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")
    reply = post_comment(facilitator, group, passage, "Please rephrase.", parent=comment)
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    html = page(other_client, group)

    assert "Rude words." not in html
    assert "Be kind." not in html
    assert (
        f'<p class="placeholder" id="comment-{comment.pk}-author">Hidden by a facilitator.</p>'
        in html
    )
    assert comment_order(html) == [comment.pk, reply.pk]


def test_comment_thread_hidden_reply_is_absent_for_members(
    other_client, member, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")
    replies = [
        post_comment(facilitator, group, passage, f"Visible {n}.", parent=parent) for n in range(6)
    ]
    hidden = post_comment(member, group, passage, "Rude words.", parent=parent)
    services.comment_hide(moderator=facilitator, comment=hidden, reason="Be kind.")

    for response in (
        other_client.get(comment_url(group, parent)),
        other_client.get(comment_url(group, parent), headers=HTMX),
        other_client.get(comment_url(group, parent), {"part": "replies"}, headers=HTMX),
    ):
        assert response.status_code == 200
        html = response.content.decode()
        assert "Rude words." not in html
        assert "Be kind." not in html
        assert f"comment-{hidden.pk}" not in html
    assert comment_order(html) == [replies[5].pk]


def test_comment_thread_of_hidden_comment_is_not_found_for_members(
    other_client, member, facilitator, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    assert other_client.get(comment_url(group, comment)).status_code == 404
    assert other_client.get(comment_url(group, comment), headers=HTMX).status_code == 404
    assert other_client.get(comment_url(group, comment, "reply")).status_code == 404


def test_passage_page_hidden_comment_shows_reason_to_its_author(
    member_client, member, facilitator, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    html = page(member_client, group)

    assert '<p class="hidden-note">Hidden from members by a facilitator: “Be kind.”</p>' in html
    assert "Rude words." in html


def test_passage_page_hidden_comment_is_visible_to_facilitators(
    facilitator_client, member, facilitator, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    html = page(facilitator_client, group)

    assert '<p class="hidden-note">Hidden from members by a facilitator: “Be kind.”</p>' in html
    assert "Rude words." in html
    assert f'action="{comment_url(group, comment, "unhide")}"' in html


@pytest.mark.parametrize("method", ["get", "post"])
def test_comment_hide_by_member_is_forbidden(other_client, member, group, passage, method):
    comment = post_comment(member, group, passage, "Rude words.")

    response = getattr(other_client, method)(
        comment_url(group, comment, "hide"), {"reason": "Mine."}
    )

    comment.refresh_from_db()
    assert response.status_code == 403
    assert comment.hidden_at is None


def test_comment_unhide_by_facilitator_shows_it_again(
    facilitator_client, other_client, member, facilitator, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    response = facilitator_client.post(comment_url(group, comment, "unhide"))

    comment.refresh_from_db()
    assert response.status_code == 302
    assert (comment.hidden_at, comment.hidden_reason, comment.hidden_by) == (None, "", None)
    assert "Rude words." in page(other_client, group)


def test_comment_unhide_by_member_is_forbidden(member_client, member, facilitator, group, passage):
    comment = post_comment(member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    assert member_client.post(comment_url(group, comment, "unhide")).status_code == 403
    comment.refresh_from_db()
    assert comment.hidden_at is not None


# Pinning -------------------------------------------------------------------------


def test_comment_pin_puts_the_thread_first(facilitator_client, member, group, passage):
    first, second, third = (post_comment(member, group, passage, f"Comment {n}.") for n in range(3))

    response = facilitator_client.post(comment_url(group, third, "pin"), {"on": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{third.pk}"
    html = page(facilitator_client, group)
    assert comment_order(html) == [third.pk, first.pk, second.pk]
    assert html.count('<span class="badge-pinned">pinned</span>') == 1


def test_comment_pin_off_restores_the_order(
    facilitator_client, member, facilitator, group, passage
):
    first, second = (post_comment(member, group, passage, f"Comment {n}.") for n in range(2))
    services.comment_pin(moderator=facilitator, comment=second, pinned=True)

    facilitator_client.post(comment_url(group, second, "pin"), {"on": "0"})

    assert comment_order(page(facilitator_client, group)) == [first.pk, second.pk]


def test_comment_pin_with_htmx_redirects_the_page(facilitator_client, member, group, passage):
    comment = post_comment(member, group, passage, "Pin me.")

    response = facilitator_client.post(
        comment_url(group, comment, "pin"), {"on": "1"}, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{ESSAY_URL}1/?group={group.slug}#comment-{comment.pk}"


def test_comment_pin_of_a_reply_is_refused(facilitator_client, member, group, passage):
    parent = post_comment(member, group, passage, "Top.")
    reply = post_comment(member, group, passage, "Reply.", parent=parent)

    response = facilitator_client.post(comment_url(group, reply, "pin"), {"on": "1"})

    reply.refresh_from_db()
    assert response.status_code == 302
    assert reply.pinned_at is None
    assert message_texts(response) == ["Only top-level comments of the discussion can be pinned."]


def test_comment_pin_by_member_is_forbidden(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Pin me.")

    assert member_client.post(comment_url(group, comment, "pin"), {"on": "1"}).status_code == 403
    comment.refresh_from_db()
    assert comment.pinned_at is None


# Helpful marks ----------------------------------------------------------------------


def test_comment_helpful_twice_counts_once(member_client, facilitator, group, passage):
    comment = post_comment(facilitator, group, passage, "Insight.")

    member_client.post(comment_url(group, comment, "helpful"), {"on": "1"})
    response = member_client.post(comment_url(group, comment, "helpful"), {"on": "1"})

    assert response.status_code == 302
    assert HelpfulMark.objects.filter(comment=comment).count() == 1
    html = page(member_client, group)
    assert '<span class="helpful-count">1 found this helpful</span>' in html
    assert 'aria-pressed="true">Helpful ✓' in html


def test_comment_helpful_take_back_removes_the_mark(
    member_client, member, facilitator, group, passage
):
    comment = post_comment(facilitator, group, passage, "Insight.")
    services.helpful_set(user=member, comment=comment, helpful=True)

    member_client.post(comment_url(group, comment, "helpful"), {"on": "0"})

    assert HelpfulMark.objects.filter(comment=comment).count() == 0
    # Quiet by default: no "0 found this helpful".
    html = page(member_client, group)
    assert "found this helpful" not in html
    assert 'aria-pressed="false">Helpful<' in html


def test_comment_helpful_counts_each_member(
    member_client, other_client, facilitator, group, passage
):
    comment = post_comment(facilitator, group, passage, "Insight.")

    member_client.post(comment_url(group, comment, "helpful"), {"on": "1"})
    other_client.post(comment_url(group, comment, "helpful"), {"on": "1"}, headers=HTMX)
    response = other_client.post(comment_url(group, comment, "helpful"), {"on": "1"}, headers=HTMX)

    assertContains(response, '<span class="helpful-count">2 found this helpful</span>', count=1)


def test_comment_helpful_on_own_comment_is_refused(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "My insight.")

    response = member_client.post(comment_url(group, comment, "helpful"), {"on": "1"})

    assert response.status_code == 302
    assert HelpfulMark.objects.count() == 0
    assert message_texts(response) == ["You cannot mark your own comment as helpful."]


def test_comment_helpful_invalid_toggle_changes_nothing(member_client, facilitator, group, passage):
    comment = post_comment(facilitator, group, passage, "Insight.")

    response = member_client.post(comment_url(group, comment, "helpful"), {"on": "maybe"})

    assert response.status_code == 302
    assert HelpfulMark.objects.count() == 0


# Access for every action -------------------------------------------------------------

ACTIONS = [
    ("post", "create", {"body": "Sneaky."}),
    ("post", "create-reply", {"body": "Sneaky.", "parent": "{pk}"}),
    ("get", "", {}),
    ("get", "reply", {}),
    ("get", "edit", {}),
    ("post", "edit", {"body": "Sneaky."}),
    ("get", "delete", {}),
    ("post", "delete", {}),
    ("post", "helpful", {"on": "1"}),
    ("get", "hide", {}),
    ("post", "hide", {"reason": "Sneaky."}),
    ("post", "unhide", {}),
    ("post", "pin", {"on": "1"}),
    ("get", "more", {"shown": "40"}),
    ("get", "updates", {"after": "0"}),
]


def action_url(group, comment, action: str) -> str:
    if action in ("create", "create-reply"):
        return create_url(group)
    if action == "more":
        return f"/groups/{group.slug}/passages/1/comments/more/"
    if action == "updates":
        return f"/groups/{group.slug}/passages/1/comments/updates/"
    return comment_url(group, comment, action)


def action_data(comment, data: dict) -> dict:
    return {key: value.format(pk=comment.pk) for key, value in data.items()}


@pytest.mark.parametrize(
    ("method", "action", "data"), ACTIONS, ids=[f"{m}-{a or 'thread'}" for m, a, _ in ACTIONS]
)
def test_comment_actions_by_outsider_are_not_found(
    outsider_client, other_group, member, group, passage, method, action, data
):
    comment = post_comment(member, group, passage, "Private words.")

    response = getattr(outsider_client, method)(
        action_url(group, comment, action), action_data(comment, data)
    )

    assert response.status_code == 404
    assert "Private words." not in response.content.decode()
    comment.refresh_from_db()
    assert Comment.objects.count() == 1
    assert (comment.body, comment.hidden_at, comment.pinned_at, comment.deleted_at) == (
        "Private words.",
        None,
        None,
        None,
    )
    assert HelpfulMark.objects.count() == 0


@pytest.mark.parametrize(
    ("method", "action", "data"), ACTIONS, ids=[f"{m}-{a or 'thread'}" for m, a, _ in ACTIONS]
)
def test_comment_actions_by_anonymous_redirect_to_login(
    client, member, group, passage, method, action, data
):
    comment = post_comment(member, group, passage, "Private words.")
    url = action_url(group, comment, action)

    response = getattr(client, method)(url, action_data(comment, data))

    full_path = f"{url}?{urlencode(data)}" if method == "get" and data else url
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(full_path, safe='/')}"
    assert Comment.objects.count() == 1


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/notifications/"),
        ("post", "/notifications/read/"),
        ("get", "/settings/notifications/"),
    ],
)
def test_notification_pages_by_anonymous_redirect_to_login(client, method, url):
    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_comment_of_another_group_is_not_found_through_this_group(
    member_client, outsider, other_group, group, passage
):
    theirs = post_comment(outsider, other_group, passage, "Elsewhere.")

    assert member_client.get(comment_url(other_group, theirs)).status_code == 404
    # The group in the URL is the member's own, but the comment is not in it.
    assert member_client.get(comment_url(group, theirs)).status_code == 404
    assert member_client.post(comment_url(group, theirs, "helpful"), {"on": "1"}).status_code == 404
    assert HelpfulMark.objects.count() == 0


# Invalid input never 500 ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"body": "x", "parent": "abc"}, 404, ""),
        ({"body": "x", "parent": "0"}, 404, ""),
        ({"body": "x", "parent": "-1"}, 404, ""),
        ({"body": "x", "parent": "999999999"}, 404, ""),
        ({"body": "x", "parent": "99999999999999999999999"}, 404, ""),
        ({"body": "x", "quote": PHRASE, "quote_start": "-5"}, 422, QUOTE_START_ERROR),
        ({"body": "x", "quote": PHRASE, "quote_start": "abc"}, 422, QUOTE_START_ERROR),
        ({}, 422, "Write something before posting."),
        ({"body": "   \n  "}, 422, "Write something before posting."),
        ({"body": "nul\x00byte"}, 422, "Null characters are not allowed."),
        (
            {"body": "x", "quote": "q" * 1001},
            422,
            "Ensure this value has at most 1000 characters (it has 1001).",
        ),
        (
            {"body": "x", "quote": "not in the passage"},
            422,
            "That phrase is not in this passage. Copy it exactly.",
        ),
    ],
    ids=[
        "parent-not-a-number",
        "parent-zero",
        "parent-negative",
        "parent-missing",
        "parent-out-of-range",
        "quote-start-negative",
        "quote-start-not-a-number",
        "body-missing",
        "body-blank",
        "body-nul",
        "quote-too-long",
        "quote-not-in-passage",
    ],
)
def test_comment_create_invalid_input_is_refused_cleanly(
    member_client, group, data, status, message
):
    response = member_client.post(create_url(group), data)

    assert response.status_code == status
    if message:
        assert message in response.content.decode()
    assert Comment.objects.count() == 0


def test_comment_create_quote_start_out_of_range_finds_the_quote(member_client, group):
    response = member_client.post(
        create_url(group), {"body": "x", "quote": PHRASE, "quote_start": "99999999999999999999"}
    )

    assert response.status_code == 302
    assert Comment.objects.get().quote_start == PHRASE_START


def test_comment_create_parent_of_another_group_is_not_found(
    member_client, outsider, other_group, group, passage
):
    theirs = post_comment(outsider, other_group, passage, "Elsewhere.")

    response = member_client.post(create_url(group), {"body": "Cross-talk.", "parent": theirs.pk})

    assert response.status_code == 404
    assert Comment.objects.count() == 1


def test_comment_create_parent_on_another_passage_is_a_form_error(
    member_client, facilitator, group, essay, passage
):
    parent = post_comment(facilitator, group, passage, "On passage 1.")

    response = member_client.post(
        create_url(group, 2), {"body": "Wrong place.", "parent": parent.pk}
    )

    assertContains(response, "You can only reply within the same discussion.", status_code=422)
    assert Comment.objects.count() == 1


def test_comment_create_unknown_passage_is_not_found(member_client, group):
    response = member_client.post(create_url(group, 999), {"body": "Nowhere."})

    assert response.status_code == 404
    assert Comment.objects.count() == 0


def test_comment_create_get_is_not_allowed(member_client, group):
    assert member_client.get(create_url(group)).status_code == 405


def test_comment_create_reply_invalid_with_htmx_retargets_the_reply_form(
    member_client, facilitator, group, passage
):
    parent = post_comment(facilitator, group, passage, "Top.")

    response = member_client.post(
        create_url(group), {"body": "", "parent": parent.pk}, headers=HTMX
    )

    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#reply-form-{parent.pk}"
    assertContains(response, "Write something before posting.", count=1)


def test_thread_more_shown_not_a_number_uses_the_first_page(member_client, group):
    response = member_client.get(
        f"/groups/{group.slug}/passages/1/comments/more/", {"shown": "abc"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"{ESSAY_URL}1/?group={group.slug}&shown=20#threads"


# Escaping and htmx fragments ------------------------------------------------------------


def test_passage_page_highlight_escapes_the_passage_and_the_quote(member, facilitator):
    text = text_import(
        source='Markup test\n\nA passage that says <b>"bold" & brave</b> things.\n', author="Tester"
    ).text
    group = make_group(text, facilitator=facilitator, members=[member])
    comment = post_comment(
        member, group, text.passages.get(), "On markup.", quote='<b>"bold" & brave</b>'
    )

    html = page(logged_in(member), group, slug=text.slug)

    assert (
        f'says <mark id="quote-{comment.pk}" data-comments="{comment.pk}">'
        f'<a href="#comment-{comment.pk}" class="quote-link">'
        "&lt;b&gt;&quot;bold&quot; &amp; brave&lt;/b&gt;</a>"
        "</mark> things."
    ) in html
    assert (
        f'<a href="#quote-{comment.pk}">“&lt;b&gt;&quot;bold&quot; &amp; brave&lt;/b&gt;”</a>'
        in html
    )
    assert "<b>" not in html


def test_comment_reply_form_with_htmx_is_a_fragment(member_client, facilitator, group, passage):
    parent = post_comment(facilitator, group, passage, "Top.")

    response = member_client.get(comment_url(group, parent, "reply"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<form method="post" id="reply-form-{parent.pk}"')
    assert "<html" not in html


def test_comment_edit_form_with_htmx_is_a_fragment(member_client, member, group, passage):
    comment = post_comment(member, group, passage, "Draft.")

    response = member_client.get(comment_url(group, comment, "edit"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith(f'<form method="post" id="edit-form-{comment.pk}"')
    assert "<html" not in html


def test_comment_delete_with_htmx_returns_the_tombstone_alone(
    member_client, member, other_member, group, passage
):
    comment = post_comment(member, group, passage, "Regret this.")
    reply = post_comment(other_member, group, passage, "But I answered.", parent=comment)

    response = member_client.post(comment_url(group, comment, "delete"), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    # The comment's own part: its replies stay where they are on the page.
    assert f'<div class="comment-self"\n     id="comment-self-{comment.pk}">' in html
    assert f'id="comment-{reply.pk}"' not in html
    assert "HX-Retarget" not in response
    assert (
        '<span class="meta" id="comment-count" data-hx-swap-oob="true">(1 comment)</span>' in html
    )
    assert (
        f'<p class="placeholder" id="comment-{comment.pk}-author">This comment was deleted.</p>'
        in html
    )
    assert "Regret this." not in html


def test_comment_hide_with_htmx_returns_the_comment_for_the_facilitator(
    facilitator_client, member, group, passage
):
    comment = post_comment(member, group, passage, "Rude words.")

    response = facilitator_client.post(
        comment_url(group, comment, "hide"), {"reason": "Be kind."}, headers=HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert self_order(html) == [comment.pk]
    assert '<p class="hidden-note">Hidden from members by a facilitator: “Be kind.”</p>' in html


def test_reply_under_a_hidden_comment_does_not_name_its_author(client, essay):
    from discussions import services as discussion_services
    from tests.factories import make_group, make_user

    lead, secret, reader = make_user("lead"), make_user("secretwriter"), make_user("onlooker")
    group = make_group(essay, facilitator=lead, members=[secret, reader])
    passage = essay.passages.get(position=1)
    parent = None
    for depth in range(6):
        author = secret if depth == 4 else lead
        parent = discussion_services.comment_create(
            author=author, group=group, passage=passage, body=f"Level {depth}", parent=parent
        )
        if depth == 4:
            hidden = parent
    discussion_services.comment_hide(moderator=lead, comment=hidden, reason="Too personal")
    client.force_login(reader)

    html = client.get(f"/texts/{essay.slug}/1/?group={group.slug}").content.decode()

    assert "Hidden by a facilitator." in html
    assert "secretwriter" not in html


def test_comment_times_are_relative_with_a_valid_datetime_and_the_full_date_on_hover(
    member_client, facilitator, group, passage
):
    comment = post_comment(facilitator, group, passage, "Earlier.")
    Comment.objects.filter(pk=comment.pk).update(
        created_at=timezone.now() - timedelta(hours=3, minutes=5, microseconds=123)
    )
    comment.refresh_from_db()

    html = page(member_client, group)

    local = timezone.localtime(comment.created_at)
    assert (
        f'<time datetime="{local.strftime("%Y-%m-%dT%H:%M:%S%z")}" '
        f'title="{dateformat.format(local, "l j F Y, H:i")}">3\xa0hours ago</time>'
    ) in html


def test_comment_edit_with_htmx_and_errors_shows_the_form_where_it_is(
    member_client, member, group, passage
):
    comment = post_comment(member, group, passage, "First draft.")

    response = member_client.post(comment_url(group, comment, "edit"), {"body": ""}, headers=HTMX)

    assert response.status_code == 200
    assert (response["HX-Retarget"], response["HX-Reswap"]) == (
        f"#edit-form-{comment.pk}",
        "outerHTML",
    )
    assert f'id="edit-form-{comment.pk}"' in response.content.decode()


def test_comment_more_replies_with_an_odd_after_shows_those_past_the_first_five(
    other_client, member, facilitator, group, passage
):
    top = post_comment(facilitator, group, passage, "Top.")
    replies = [post_comment(member, group, passage, f"R{n}.", parent=top) for n in range(7)]

    for after in ("x", "", "\x00"):
        response = other_client.get(
            comment_url(group, top), {"part": "replies", "after": after}, headers=HTMX
        )
        assert response.status_code == 200
        assert comment_order(response.content.decode()) == [r.pk for r in replies[5:]]


def test_comment_more_replies_with_an_odd_after_and_few_replies_never_fails(
    other_client, member, facilitator, group, passage
):
    top = post_comment(facilitator, group, passage, "Top.")
    post_comment(member, group, passage, "Only one.", parent=top)

    response = other_client.get(
        comment_url(group, top), {"part": "replies", "after": "x"}, headers=HTMX
    )

    assert response.status_code == 200
    assert comment_order(response.content.decode()) == []


def test_comment_thread_page_of_a_deleted_comment_without_replies_is_404(
    other_client, member, group, passage
):
    comment = post_comment(member, group, passage, "Regretted.")
    services.comment_delete(user=member, comment=comment)

    assert other_client.get(comment_url(group, comment)).status_code == 404


def test_comment_chain_of_deleted_replies_leaves_no_empty_placeholder(
    other_client, member, facilitator, group, passage
):
    top = post_comment(facilitator, group, passage, "Top.")
    a = post_comment(member, group, passage, "A.", parent=top)
    b = post_comment(member, group, passage, "B.", parent=a)
    c = post_comment(member, group, passage, "C.", parent=b)
    for comment in (c, b, a):
        services.comment_delete(user=member, comment=comment)

    html = page(other_client, group)

    assert comment_order(html) == [top.pk]
    assert "more repl" not in html
