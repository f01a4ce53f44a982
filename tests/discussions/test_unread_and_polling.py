"""What is new since a reader's last visit, the per-passage counts in the contents,
and the polling endpoint that brings others' new comments in (204 / 200 / 304)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from discussions import services
from discussions.models import Comment, PassageVisit
from groups.models import Membership
from tests.discussions.helpers import ESSAY_URL, passage_url, post_comment, updates_url


def new_comment_ids(html: str) -> list[int]:
    return [
        int(pk)
        for pk in re.findall(
            r'<article class="comment[^"]*\bis-new\b[^"]*"\s+id="comment-(\d+)"', html
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


def test_passage_page_visit_records_when_it_was_seen(member_client, member, group, passage):
    before = timezone.now()

    member_client.get(passage_url(group))

    visit = PassageVisit.objects.get(user=member, group=group, passage=passage)
    assert before <= visit.last_seen_at <= timezone.now()


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
    found = re.findall(r'<div id="comment-poller" data-hx-get="[^"]*\?after=(\d+)"', html)
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
    assert f'data-hx-get="{updates_url(group, after=reply.pk)}"' in html


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
    assert f'<article class="comment indent-4 is-new"\n         id="comment-{deep.pk}"' in html
    assert f"replying to @{facilitator.username}" in html


def test_comment_updates_same_etag_is_304(member_client, facilitator, group, passage):
    post_comment(facilitator, group, passage, "New.")
    first = member_client.get(updates_url(group, after=0))

    again = member_client.get(updates_url(group, after=0), headers={"If-None-Match": first["ETag"]})

    assert first.status_code == 200
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_comment_updates_same_etag_after_204_is_304(member_client, facilitator, group, passage):
    latest = post_comment(facilitator, group, passage, "Seen.")
    first = member_client.get(updates_url(group, after=latest.pk))

    again = member_client.get(
        updates_url(group, after=latest.pk), headers={"If-None-Match": first["ETag"]}
    )

    assert (first.status_code, again.status_code) == (204, 304)


def test_comment_updates_other_etag_is_answered_in_full(member_client, facilitator, group, passage):
    post_comment(facilitator, group, passage, "New.")

    response = member_client.get(updates_url(group, after=0), headers={"If-None-Match": '"stale"'})

    assert response.status_code == 200


def test_comment_updates_etag_is_stable_while_nothing_changes(
    member_client, facilitator, group, passage
):
    post_comment(facilitator, group, passage, "New.")

    first = member_client.get(updates_url(group, after=0))
    second = member_client.get(updates_url(group, after=0))

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


ETAG_CHANGES = {
    # id: (set-up before the first poll, the change, status of the next poll)
    "edit": (None, _edit, 204),
    "delete-leaf": (None, _delete, 204),
    "delete-to-tombstone": (_reply_by_member, _delete, 204),
    "hide": (None, _hide, 204),
    "pin": (None, _pin, 204),
    "new-comment": (None, _new_comment, 200),
}


@pytest.mark.parametrize(("setup", "change", "status"), ETAG_CHANGES.values(), ids=ETAG_CHANGES)
def test_comment_updates_etag_changes_when_the_discussion_changes(
    member_client, member, facilitator, other_member, group, passage, setup, change, status
):
    people = {"member": member, "facilitator": facilitator, "other": other_member}
    comment = post_comment(other_member, group, passage, "Original.")
    if setup:
        setup(comment, people)
    after = Comment.objects.latest("pk").pk
    first = member_client.get(updates_url(group, after=after))

    change(comment, people)
    second = member_client.get(
        updates_url(group, after=after), headers={"If-None-Match": first["ETag"]}
    )

    assert first.status_code == 204
    assert second.status_code == status
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

    assert (
        f'<div id="comment-poller" data-hx-get="{updates_url(group, after=latest.pk)}"\n'
        '     data-hx-trigger="every 15s" data-hx-swap="outerHTML"></div>'
    ) in html


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
