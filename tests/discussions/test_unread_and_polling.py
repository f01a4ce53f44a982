"""What is new since a reader's last visit, the per-passage counts in the contents,
and the polling endpoint that brings others' new comments in (204 / 200 / 304)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from discussions import services
from discussions.models import Comment, PassageVisit
from groups.models import Membership
from tests.discussions.helpers import ESSAY_URL, HTMX, passage_url, post_comment, updates_url


def new_comment_ids(html: str) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'<div class="comment-self[^"]*\bis-new\b[^"]*"\s+id="comment-self-(\d+)"', html
        )
    ]


def shown_comment_ids(html: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<article class="comment[^"]*"\s+id="comment-(\d+)"', html)
    ]


def set_created(comment, when) -> None:
    Comment.objects.filter(pk=comment.pk).update(created_at=when)


def set_visit(user, group, passage, when) -> None:
    PassageVisit.objects.update_or_create(
        user=user, group=group, passage=passage, defaults={"last_seen_at": when}
    )


def contents_new_counts(client, group) -> dict[int, int]:
    """Passage position -> new-comment count, as the contents table shows it."""
    html = client.get(f"{ESSAY_URL}?group={group.slug}").content.decode()
    return {
        int(position): int(count)
        for position, count in re.findall(
            rf'<a class="new-count" href="{ESSAY_URL}(\d+)/\?group={group.slug}#discussion">'
            r"(\d+)<span",
            html,
        )
    }


# New since the last visit -------------------------------------------------------------


def test_passage_page_first_visit_marks_others_comments_new(
    member_client, member, facilitator, other_member, group, passage
):
    theirs = post_comment(facilitator, group, passage, "From the facilitator.")
    reply = post_comment(other_member, group, passage, "From another member.", parent=theirs)
    mine = post_comment(member, group, passage, "My own.")

    html = member_client.get(passage_url(group)).content.decode()

    assert shown_comment_ids(html) == [theirs.pk, reply.pk, mine.pk]
    assert new_comment_ids(html) == [theirs.pk, reply.pk]
    assert html.count('<span class="badge-new">new</span>') == 2


def test_passage_page_second_visit_shows_nothing_new(member_client, facilitator, group, passage):
    post_comment(facilitator, group, passage, "From the facilitator.")
    member_client.get(passage_url(group))

    html = member_client.get(passage_url(group)).content.decode()

    assert new_comment_ids(html) == []
    assert '<span class="badge-new">new</span>' not in html


def test_a_head_request_is_not_a_visit(member_client, facilitator, group, passage):
    """Nobody reads it (a link checker's, say): what is new stays marked for the reader."""
    theirs = post_comment(facilitator, group, passage, "From the facilitator.")
    member_client.get(passage_url(group))
    later = post_comment(facilitator, group, passage, "Later.")

    assert member_client.head(passage_url(group)).status_code == 200
    html = member_client.get(passage_url(group)).content.decode()

    assert theirs.pk in shown_comment_ids(html)
    assert new_comment_ids(html) == [later.pk]


def test_passage_page_visit_records_when_it_was_seen(member_client, member, group, passage):
    before = timezone.now()

    member_client.get(passage_url(group))

    visit = PassageVisit.objects.get(user=member, group=group, passage=passage)
    assert before <= visit.last_seen_at <= timezone.now()


def test_passage_visit_record_answers_the_previous_visit_and_keeps_one_row(
    member, group, passage, django_assert_num_queries
):
    first, second = timezone.now() - timedelta(hours=2), timezone.now()

    with django_assert_num_queries(1):
        never = services.passage_visit_record(user=member, group=group, passage=passage, now=first)
    again = services.passage_visit_record(user=member, group=group, passage=passage, now=second)

    assert (never, again) == (None, first)
    visits = PassageVisit.objects.filter(user=member, group=group, passage=passage)
    assert list(visits.values_list("last_seen_at", flat=True)) == [second]


def test_passage_page_after_a_visit_only_later_comments_are_new(
    member_client, member, facilitator, group, passage
):
    last_visit = timezone.now() - timedelta(hours=1)
    older = post_comment(facilitator, group, passage, "Seen already.")
    newer = post_comment(facilitator, group, passage, "Written since.")
    set_created(older, last_visit - timedelta(minutes=5))
    set_created(newer, last_visit + timedelta(minutes=5))
    set_visit(member, group, passage, last_visit)

    html = member_client.get(passage_url(group)).content.decode()

    assert shown_comment_ids(html) == [older.pk, newer.pk]
    assert new_comment_ids(html) == [newer.pk]


def test_passage_page_own_comments_are_never_new(member_client, member, group, passage):
    last_visit = timezone.now() - timedelta(hours=1)
    mine = post_comment(member, group, passage, "My own, written since.")
    set_created(mine, last_visit + timedelta(minutes=5))
    set_visit(member, group, passage, last_visit)

    html = member_client.get(passage_url(group)).content.decode()

    assert shown_comment_ids(html) == [mine.pk]
    assert new_comment_ids(html) == []


def test_passage_page_visit_in_one_group_leaves_the_other_group_new(
    member_client, member, facilitator, outsider, other_group, group, passage
):
    Membership.objects.create(group=other_group, user=member, role=Membership.Role.MEMBER)
    post_comment(facilitator, group, passage, "Here.")
    there = post_comment(outsider, other_group, passage, "There.")
    member_client.get(passage_url(group))

    html = member_client.get(passage_url(other_group)).content.decode()

    assert new_comment_ids(html) == [there.pk]


# New counts in the contents ----------------------------------------------------------


def test_text_detail_shows_new_counts_per_passage(
    member_client, member, facilitator, other_member, group, essay, passage
):
    third = essay.passages.get(position=3)
    post_comment(facilitator, group, passage, "One.")
    post_comment(other_member, group, passage, "Two.")
    post_comment(member, group, passage, "Mine, not new.")
    post_comment(facilitator, group, third, "Three.")

    assert contents_new_counts(member_client, group) == {1: 2, 3: 1}


def test_text_detail_new_counts_are_for_the_selected_group(
    member_client, member, facilitator, outsider, other_group, group, essay, passage
):
    Membership.objects.create(group=other_group, user=member, role=Membership.Role.MEMBER)
    second = essay.passages.get(position=2)
    post_comment(facilitator, group, passage, "In my circle.")
    post_comment(outsider, other_group, second, "In the other circle.")
    post_comment(outsider, other_group, second, "Also there.")

    assert contents_new_counts(member_client, group) == {1: 1}
    assert contents_new_counts(member_client, other_group) == {2: 2}


def test_text_detail_new_counts_drop_after_visiting_the_passage(
    member_client, facilitator, group, essay, passage
):
    post_comment(facilitator, group, passage, "One.")
    post_comment(facilitator, group, essay.passages.get(position=3), "Three.")

    member_client.get(passage_url(group))

    assert contents_new_counts(member_client, group) == {3: 1}


def test_text_detail_new_counts_only_comments_since_the_visit(
    member_client, member, facilitator, group, passage
):
    last_visit = timezone.now() - timedelta(hours=1)
    older = post_comment(facilitator, group, passage, "Seen already.")
    newer = post_comment(facilitator, group, passage, "Written since.")
    set_created(older, last_visit - timedelta(minutes=5))
    set_created(newer, last_visit + timedelta(minutes=5))
    set_visit(member, group, passage, last_visit)

    assert contents_new_counts(member_client, group) == {1: 1}


def test_text_detail_new_counts_leave_out_hidden_and_deleted(
    member_client, facilitator, other_member, group, passage
):
    hidden = post_comment(other_member, group, passage, "Rude.")
    services.comment_hide(moderator=facilitator, comment=hidden, reason="Be kind.")
    tombstone = post_comment(other_member, group, passage, "Regretted.")
    post_comment(facilitator, group, passage, "Answer.", parent=tombstone)
    services.comment_delete(user=other_member, comment=tombstone)

    assert contents_new_counts(member_client, group) == {1: 1}


# Polling for updates -------------------------------------------------------------------


def test_comment_updates_nothing_new_is_204(member_client, facilitator, group, passage):
    latest = post_comment(facilitator, group, passage, "Seen.")

    response = member_client.get(updates_url(group, after=latest.pk))

    assert response.status_code == 204
    assert response.content == b""
    assert response["ETag"].startswith('"')
    assert response["Cache-Control"] == "no-cache, private"


def poller_after(html: str) -> int | None:
    found = re.findall(r'<div id="comment-poller" data-hx-get="[^"]*\?after=(\d+)&amp;since=', html)
    return int(found[0]) if len(found) == 1 else None


def test_comment_updates_only_own_new_comment_moves_the_poller_on(
    member_client, member, facilitator, group, passage
):
    seen = post_comment(facilitator, group, passage, "Seen.")
    mine = post_comment(member, group, passage, "Mine.")

    response = member_client.get(updates_url(group, after=seen.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert shown_comment_ids(html) == []
    assert poller_after(html) == mine.pk
    assert "discussion-status" not in html  # nothing to announce
    # From there on, the poll is the cheap one again.
    assert member_client.get(updates_url(group, after=mine.pk)).status_code == 204


def test_comment_updates_returns_others_new_comments_out_of_band(
    member_client, member, facilitator, other_member, group, passage
):
    seen = post_comment(facilitator, group, passage, "Seen.")
    post_comment(member, group, passage, "Mine.")
    top = post_comment(other_member, group, passage, "New thread.")
    reply = post_comment(facilitator, group, passage, "New reply.", parent=seen)

    response = member_client.get(updates_url(group, after=seen.pk))

    html = response.content.decode()
    assert response.status_code == 200
    assert shown_comment_ids(html) == [top.pk, reply.pk]
    assert new_comment_ids(html) == [top.pk, reply.pk]
    assert re.findall(r'data-hx-swap-oob="(beforeend:[^"]+)"', html) == [
        "beforeend:#threads",
        f"beforeend:#replies-{seen.pk}",
    ]
    assert "Seen." not in html
    assert "Mine." not in html
    assert (
        '<p id="discussion-status" class="visually-hidden" role="status" aria-live="polite" '
        'data-hx-swap-oob="true">2 new comments.</p>'
    ) in html
    assert poller_after(html) == reply.pk


def test_comment_updates_leaves_out_hidden_comments_for_members(
    member_client, facilitator, other_member, group, passage
):
    hidden = post_comment(other_member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=hidden, reason="Be kind.")

    response = member_client.get(updates_url(group, after=0))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Rude words." not in html
    assert shown_comment_ids(html) == []
    assert poller_after(html) == hidden.pk


def test_comment_updates_keep_the_depth_of_a_deep_new_reply(
    member_client, facilitator, other_member, group, passage
):
    parent = None
    for n in range(5):
        parent = post_comment(facilitator, group, passage, f"Level {n}.", parent=parent)
    deep = post_comment(other_member, group, passage, "Level 5.", parent=parent)

    html = member_client.get(updates_url(group, after=parent.pk)).content.decode()

    assert shown_comment_ids(html) == [deep.pk]
    assert f'<article class="comment indent-4" id="comment-{deep.pk}"' in html
    assert new_comment_ids(html) == [deep.pk]
    assert f"replying to @{facilitator.username}" in html


def test_comment_updates_same_etag_is_304(member_client, facilitator, group, passage):
    post_comment(facilitator, group, passage, "New.")
    url = updates_url(group, after=0)
    first = member_client.get(url)

    again = member_client.get(url, headers={"If-None-Match": first["ETag"]})

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_comment_updates_same_etag_after_204_is_304(member_client, facilitator, group, passage):
    latest = post_comment(facilitator, group, passage, "Seen.")
    url = updates_url(group, after=latest.pk)
    first = member_client.get(url)

    again = member_client.get(url, headers={"If-None-Match": first["ETag"]})

    assert (first.status_code, again.status_code) == (204, 304)


def test_comment_updates_other_etag_is_answered_in_full(member_client, facilitator, group, passage):
    post_comment(facilitator, group, passage, "New.")

    response = member_client.get(updates_url(group, after=0), headers={"If-None-Match": '"stale"'})

    assert response.status_code == 200


def test_comment_updates_etag_is_stable_while_nothing_changes(
    member_client, facilitator, group, passage
):
    post_comment(facilitator, group, passage, "New.")

    url = updates_url(group, after=0)
    first = member_client.get(url)
    second = member_client.get(url)

    assert first["ETag"] == second["ETag"]


def _edit(comment, people):
    services.comment_edit(editor=people["other"], comment=comment, body="Changed.")


def _delete(comment, people):
    services.comment_delete(user=people["other"], comment=comment)


def _reply_by_member(comment, people):
    post_comment(people["member"], comment.group, comment.passage, "Answer.", parent=comment)


def _hide(comment, people):
    services.comment_hide(moderator=people["facilitator"], comment=comment, reason="Be kind.")


def _pin(comment, people):
    services.comment_pin(moderator=people["facilitator"], comment=comment, pinned=True)


def _new_comment(comment, people):
    post_comment(people["facilitator"], comment.group, comment.passage, "Another.")


def _helpful(comment, people):
    services.helpful_set(user=people["facilitator"], comment=comment, helpful=True)


ETAG_CHANGES = {
    # id: (set-up before the first poll, the change): each reaches the open page.
    "edit": (None, _edit),
    "delete-leaf": (None, _delete),
    "delete-to-tombstone": (_reply_by_member, _delete),
    "hide": (None, _hide),
    "pin": (None, _pin),
    "helpful": (None, _helpful),
    "new-comment": (None, _new_comment),
}


@pytest.mark.parametrize(("setup", "change"), ETAG_CHANGES.values(), ids=ETAG_CHANGES)
def test_comment_updates_etag_changes_when_the_discussion_changes(
    member_client, member, facilitator, other_member, group, passage, setup, change
):
    people = {"member": member, "facilitator": facilitator, "other": other_member}
    comment = post_comment(other_member, group, passage, "Original.")
    if setup:
        setup(comment, people)
    after = Comment.objects.latest("pk").pk
    url = updates_url(group, after=after)
    first = member_client.get(url)

    change(comment, people)
    second = member_client.get(url, headers={"If-None-Match": first["ETag"]})

    assert first.status_code == 204
    assert second.status_code == 200
    assert second["ETag"] != first["ETag"]


def test_comment_updates_etag_change_on_hide_removes_nothing_for_facilitators(
    facilitator_client, facilitator, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "Rude words.")
    services.comment_hide(moderator=facilitator, comment=comment, reason="Be kind.")

    response = facilitator_client.get(updates_url(group, after=0))

    assert response.status_code == 200
    assert shown_comment_ids(response.content.decode()) == [comment.pk]


def test_comment_updates_after_not_a_number_means_from_the_start(
    member_client, facilitator, group, passage
):
    comment = post_comment(facilitator, group, passage, "New.")

    response = member_client.get(f"/groups/{group.slug}/passages/1/comments/updates/?after=abc")

    assert response.status_code == 200
    assert shown_comment_ids(response.content.decode()) == [comment.pk]


def test_passage_page_poller_asks_after_the_latest_comment(
    member_client, facilitator, group, passage
):
    post_comment(facilitator, group, passage, "One.")
    latest = post_comment(facilitator, group, passage, "Two.")

    html = member_client.get(passage_url(group)).content.decode()

    since = int(Comment.objects.latest("updated_at").updated_at.timestamp() * 1_000_000)
    assert (
        f'<div id="comment-poller" data-hx-get="{updates_url(group, after=latest.pk, since=since)}"\n'
        '     data-hx-trigger="every 15s" data-hx-swap="outerHTML"></div>'
    ).replace("&since", "&amp;since") in html


# Others' changes reaching an open page -------------------------------------------------


def poller_url(html: str) -> str:
    """Where the page's (or the last answer's) poller asks next."""
    found = re.search(r'<div id="comment-poller" data-hx-get="([^"]+)"', html).group(1)
    return found.replace("&amp;", "&")


def poll_after_change(client, group, change):
    """Open the page, let `change` happen, then poll as the page would."""
    poll = poller_url(client.get(passage_url(group)).content.decode())
    change()
    return client.get(poll, headers={"HX-Request": "true"})


def self_swaps(html: str) -> dict[int, str]:
    """The comments the poll replaces in place: id -> their own part's HTML."""
    swaps = {}
    for part in re.split(r'(?=<div class="comment-self)', html)[1:]:
        found = re.match(
            r'<div class="comment-self[^"]*"\s+id="comment-self-(\d+)" data-hx-swap-oob', part
        )
        if found:
            swaps[int(found.group(1))] = part
    return swaps


def test_comment_updates_carry_an_edit_by_another_member(
    member_client, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "First words.")

    response = poll_after_change(
        member_client,
        group,
        lambda: services.comment_edit(editor=other_member, comment=comment, body="Second words."),
    )

    swaps = self_swaps(response.content.decode())
    assert response.status_code == 200
    assert list(swaps) == [comment.pk]
    assert "<p>Second words.</p>" in swaps[comment.pk]
    assert '<span class="edited">edited' in swaps[comment.pk]
    assert "First words." not in response.content.decode()


def test_comment_updates_carry_a_helpful_count(
    member_client, facilitator, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "Useful.")

    response = poll_after_change(
        member_client,
        group,
        lambda: services.helpful_set(user=facilitator, comment=comment, helpful=True),
    )

    swaps = self_swaps(response.content.decode())
    assert '<span class="helpful-count">1 found this helpful</span>' in swaps[comment.pk]
    # The reader's own mark is theirs: not marked by the facilitator's.
    assert 'aria-pressed="false"' in swaps[comment.pk]


def test_comment_updates_remove_a_deleted_comment_without_replies(
    member_client, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "Regretted.")

    response = poll_after_change(
        member_client,
        group,
        lambda: services.comment_delete(user=other_member, comment=comment),
    )

    html = response.content.decode()
    assert f'<div id="comment-{comment.pk}" class="comment-self" data-hx-swap-oob="delete">' in html
    assert self_swaps(html) == {}
    assert "Regretted." not in html
    assert (
        '<span class="meta" id="comment-count" data-hx-swap-oob="true">(0 comments)</span>' in html
    )


def test_comment_updates_turn_a_deleted_comment_with_replies_into_a_tombstone(
    member_client, facilitator, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "Regretted.")
    reply = post_comment(facilitator, group, passage, "But answered.", parent=comment)

    response = poll_after_change(
        member_client,
        group,
        lambda: services.comment_delete(user=other_member, comment=comment),
    )

    swaps = self_swaps(response.content.decode())
    assert list(swaps) == [comment.pk]
    assert "This comment was deleted." in swaps[comment.pk]
    assert reply.pk not in swaps


def test_comment_updates_hide_a_comment_from_members_but_not_facilitators(
    member_client, facilitator_client, facilitator, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "Rude.")
    hide = lambda: services.comment_hide(  # noqa: E731
        moderator=facilitator, comment=comment, reason="Be kind."
    )
    unhide = lambda: services.comment_unhide(moderator=facilitator, comment=comment)  # noqa: E731

    for_member = poll_after_change(member_client, group, hide).content.decode()
    unhide()
    for_facilitator = poll_after_change(facilitator_client, group, hide).content.decode()

    assert 'data-hx-swap-oob="delete"' in for_member and "Rude." not in for_member
    assert (
        "Hidden from members by a facilitator: “Be kind.”"
        in self_swaps(for_facilitator)[comment.pk]
    )


def test_comment_updates_mark_a_pinned_thread(
    member_client, facilitator, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "Important.")

    response = poll_after_change(
        member_client,
        group,
        lambda: services.comment_pin(moderator=facilitator, comment=comment, pinned=True),
    )

    assert (
        '<span class="badge-pinned">pinned</span>'
        in self_swaps(response.content.decode())[comment.pk]
    )


def test_comment_updates_after_the_change_are_unchanged_again(
    member_client, other_member, group, passage
):
    comment = post_comment(other_member, group, passage, "First words.")
    first = poll_after_change(
        member_client,
        group,
        lambda: services.comment_edit(editor=other_member, comment=comment, body="Second."),
    )
    next_poll = poller_url(first.content.decode())

    # The next poll asks from the change on: nothing new, the cheap answer.
    assert member_client.get(next_poll).status_code == 204


@pytest.mark.parametrize("since", ["-5", "abc", "99999999999999999999999999", "\x00", ""])
def test_comment_updates_odd_since_never_fails(member_client, other_member, group, passage, since):
    post_comment(other_member, group, passage, "Words.")

    response = member_client.get(
        f"/groups/{group.slug}/passages/1/comments/updates/", {"after": 0, "since": since}
    )

    assert response.status_code == 200


def test_posting_and_polling_refresh_the_discussion_count(client, essay):
    from tests.factories import make_group, make_user

    author, reader = make_user("counter"), make_user("watcher")
    group = make_group(essay, facilitator=author, members=[reader])
    client.force_login(author)
    response = client.post(
        f"/groups/{group.slug}/passages/2/comments/",
        {"body": "First"},
        headers={"HX-Request": "true"},
    )
    assert (
        '<span class="meta" id="comment-count" data-hx-swap-oob="true">(1 comment)</span>'
        in response.content.decode()
    )

    client.force_login(reader)
    response = client.get(f"/groups/{group.slug}/passages/2/comments/updates/?after=0")
    assert (
        '<span class="meta" id="comment-count" data-hx-swap-oob="true">(1 comment)</span>'
        in response.content.decode()
    )


def test_comment_updates_beyond_one_answers_worth_of_changes_come_in_the_next(
    member_client, other_member, group, passage
):
    from discussions.selectors import CHANGES_PER_POLL

    comments = [
        post_comment(other_member, group, passage, f"Words {n}.")
        for n in range(CHANGES_PER_POLL + 3)
    ]

    def edit_all():
        for comment in comments:
            services.comment_edit(editor=other_member, comment=comment, body="Changed.")

    first = poll_after_change(member_client, group, edit_all)
    first_swaps = self_swaps(first.content.decode())
    next_poll = poller_url(first.content.decode())
    second = member_client.get(next_poll, headers={"HX-Request": "true"})

    # The first answer carries the first fifty changes, the next one the rest.
    assert list(first_swaps) == [c.pk for c in comments[:CHANGES_PER_POLL]]
    assert set(self_swaps(second.content.decode())) >= {c.pk for c in comments[CHANGES_PER_POLL:]}


def test_comment_updates_of_a_passage_the_text_does_not_have_is_404(member_client, group):
    assert member_client.get(updates_url(group, position=11), headers=HTMX).status_code == 404
    assert member_client.get(updates_url(group, position=0), headers=HTMX).status_code == 404
