"""Rendered comments come from the fragment cache (comment_fragments.comment_variant):
whatever happened to a comment and whoever reads it, the cached page is the page
rendered afresh."""

import re
import time
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.test import override_settings
from django.utils import timezone

from discussions import services
from discussions.models import Comment, PassageVisit
from groups.models import Membership, ReaderSettings
from tests.discussions.helpers import (
    HTMX,
    comment_url,
    logged_in,
    passage_url,
    post_comment,
    updates_url,
)
from tests.discussions.test_questions import answer, make_question
from tests.factories import make_user

NO_FRAGMENT_CACHE = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "template_fragments": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    "site_headers": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
}
# Per response: the masked CSRF token, the scripts' nonce, the forms' submission ids
# and the poll's "changes since" (the time of the request when nothing changed).
PER_RESPONSE = re.compile(
    r'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce=")[^"]+|since=\d+'
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def comments_as_shown(client, url) -> str:
    # Each visit moves the reader's "new since": both renders start from no visit.
    PassageVisit.objects.all().delete()
    response = client.get(url, headers=HTMX if "/updates/" in url else {})
    assert response.status_code == 200
    return PER_RESPONSE.sub("…", response.content.decode())


def fresh_and_cached(client, url) -> tuple[str, str]:
    with override_settings(CACHES=NO_FRAGMENT_CACHE):
        fresh = comments_as_shown(client, url)
    return fresh, comments_as_shown(client, url)


@pytest.fixture
def circle(group, passage, facilitator, member):
    other = make_user("other")
    Membership.objects.create(group=group, user=other, role=Membership.Role.MEMBER)
    root = post_comment(member, group, passage, "The sect's first rule.", quote="To sum up")
    reply = post_comment(other, group, passage, "A reply to @member.", parent=root)
    deep = post_comment(member, group, passage, "Deeper.", parent=reply)
    deeper = post_comment(other, group, passage, "Deeper still.", parent=deep)
    post_comment(facilitator, group, passage, "Deepest.", parent=deeper)
    lone = post_comment(other, group, passage, "Another thread.")
    return {"root": root, "reply": reply, "deep": deep, "lone": lone, "other": other}


def test_every_reader_sees_the_same_page_from_the_cache_after_every_kind_of_change(
    circle, group, passage, facilitator, member
):
    readers = {
        "author": logged_in(member),
        "other member": logged_in(circle["other"]),
        "facilitator": logged_in(facilitator),
    }
    root, reply, lone = circle["root"], circle["reply"], circle["lone"]
    changes = [
        ("nothing yet", lambda: None),
        ("helpful", lambda: services.helpful_set(user=circle["other"], comment=root, helpful=True)),
        ("edit", lambda: services.comment_edit(editor=member, comment=root, body="Edited words.")),
        ("pin", lambda: services.comment_pin(moderator=facilitator, comment=lone, pinned=True)),
        (
            "hide",
            lambda: services.comment_hide(moderator=facilitator, comment=reply, reason="Off topic"),
        ),
        ("unhide", lambda: services.comment_unhide(moderator=facilitator, comment=reply)),
        ("delete with replies", lambda: services.comment_delete(user=member, comment=root)),
        ("unhelpful", lambda: services.helpful_set(user=member, comment=lone, helpful=False)),
        ("a member made facilitator", lambda: _promote(circle["other"], group)),
    ]
    for change, apply in changes:
        apply()
        for reader, client in readers.items():
            fresh, cached = fresh_and_cached(client, passage_url(group))
            assert cached == fresh, f"{reader} after {change}"
    assert len(caches["template_fragments"]._cache) > 0  # the cache was used


def _promote(user, group):
    Membership.objects.filter(user=user, group=group).update(role=Membership.Role.FACILITATOR)


def test_a_reader_in_another_time_zone_gets_their_own_times(circle, group, member):
    author = logged_in(member)
    comments_as_shown(author, passage_url(group))  # cached in the author's time zone
    other = circle["other"]
    ReaderSettings.objects.update_or_create(user=other, defaults={"time_zone": "Pacific/Auckland"})
    fresh, cached = fresh_and_cached(logged_in(other), passage_url(group))
    assert cached == fresh


def test_a_former_member_s_comment_shows_them_as_a_former_member(circle, group, member):
    author = logged_in(member)
    comments_as_shown(author, passage_url(group))
    circle["other"].delete()  # their comments stay, authorless; nothing bumps the comment
    fresh, cached = fresh_and_cached(author, passage_url(group))
    assert cached == fresh
    assert "A former member" in cached


def test_the_page_s_buttons_post_its_one_form_and_its_comments_hold_no_token(circle, group, member):
    html = logged_in(member).get(passage_url(group)).content.decode()
    assert html.count('<form id="post-action" method="post" hidden>') == 1
    own_parts = re.findall(r'id="comment-self-\d+".*?id="reply-slot-', html, re.DOTALL)
    assert len(own_parts) == Comment.objects.count()
    assert any('form="post-action"' in part for part in own_parts)
    assert not any("csrfmiddlewaretoken" in part for part in own_parts)


def test_answers_the_thread_page_and_the_poll_come_from_the_cache_as_they_were_rendered(
    circle, group, facilitator, member
):
    question = make_question(group, facilitator)
    mine = answer(member, question, "The sect's rule is its own.")
    services.answer_set_highlighted(facilitator=facilitator, answer=mine, highlighted=True)
    post_comment(circle["other"], group, mine.passage, "Agreed.", parent=mine)
    readers = [logged_in(member), logged_in(circle["other"]), logged_in(facilitator)]
    since = int(time.time() * 1_000_000)
    services.comment_edit(editor=member, comment=circle["root"], body="Changed since.")
    pages = [
        question.get_absolute_url(),
        comment_url(group, circle["root"]),
        updates_url(group, after=circle["lone"].pk, since=since),
    ]
    for url in pages:
        for client in readers:
            comments_as_shown(client, url)  # cached for every reader first
        for client in readers:
            fresh, cached = fresh_and_cached(client, url)
            assert cached == fresh, url


def test_a_comment_a_week_old_and_a_quote_gone_from_the_passage_are_not_served_stale(
    circle, group, member
):
    """Neither changes the comment (no new time of change): the key still changes."""
    reader = logged_in(member)
    comments_as_shown(reader, passage_url(group))
    old = timezone.now() - timedelta(days=8)
    Comment.objects.filter(pk=circle["lone"].pk).update(created_at=old)
    Comment.objects.filter(pk=circle["root"].pk).update(quote_exact="words not in the passage")

    fresh, cached = fresh_and_cached(reader, passage_url(group))

    assert cached == fresh
    assert "Detached: these words are no longer in the passage." in cached
    assert old.strftime("%-d %b %Y") in cached


def test_every_page_with_comments_has_the_form_their_buttons_submit(circle, group, facilitator):
    question = make_question(group, facilitator)
    answer(circle["other"], question)
    client = logged_in(facilitator)
    for url in (
        passage_url(group),
        comment_url(group, circle["root"]),
        question.get_absolute_url(),
    ):
        html = client.get(url).content.decode()
        assert 'form="post-action"' in html, url
        assert html.count('<form id="post-action" method="post" hidden>') == 1, url
