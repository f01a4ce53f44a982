"""Double submits and concurrent moderation end in a clear answer, never a 500."""

import uuid

import pytest
from django.test import Client

from discussions import services
from discussions.models import Comment
from tests.factories import at_once, make_group, make_user


def client_for(user):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def discussion(essay):
    author, moderator, reader = make_user("racer"), make_user("moderator"), make_user("marker")
    group = make_group(essay, facilitator=moderator, members=[author, reader])
    passage = essay.passages.get(position=1)
    return group, passage, author, moderator, reader


def new_comment(group, passage, author):
    return services.comment_create(author=author, group=group, passage=passage, body="Racing")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_double_submitted_delete_deletes_once_and_never_fails(discussion, attempt):
    group, passage, author, _moderator, _reader = discussion
    comment = new_comment(group, passage, author)
    url = f"/groups/{group.slug}/comments/{comment.pk}/delete/"
    first, second = client_for(author), client_for(author)

    responses = at_once(lambda: first.post(url), lambda: second.post(url))

    assert sorted(r.status_code for r in responses) in ([302, 302], [302, 404])
    assert Comment.objects.get(pk=comment.pk).is_deleted


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["helpful", "hide", "pin"])
def test_moderation_racing_a_delete_never_fails(discussion, action):
    group, passage, author, moderator, reader = discussion
    comment = new_comment(group, passage, author)
    base = f"/groups/{group.slug}/comments/{comment.pk}"
    actor, data = {
        "helpful": (reader, {"on": "1"}),
        "hide": (moderator, {"reason": "Off topic"}),
        "pin": (moderator, {"on": "1"}),
    }[action]
    deleter, other = client_for(author), client_for(actor)

    responses = at_once(
        lambda: deleter.post(f"{base}/delete/"), lambda: other.post(f"{base}/{action}/", data)
    )

    assert responses[0].status_code == 302
    # Done before the delete, refused after it (hiding says why on its form), or gone.
    refused = responses[1].status_code == 200 and (
        "A deleted comment cannot be hidden." in responses[1].content.decode()
    )
    assert responses[1].status_code in (302, 404) or refused


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_one_form_posted_four_times_at_once_makes_one_comment(discussion, attempt):
    group, passage, author, _moderator, _reader = discussion
    url = f"/groups/{group.slug}/passages/{passage.position}/comments/"
    data = {"body": "Clicked four times.", "submission_id": str(uuid.uuid4())}
    clients = [client_for(author) for _ in range(4)]

    locations = at_once(*[lambda c=c: c.post(url, data)["Location"] for c in clients])

    comment = Comment.objects.get(group=group)
    assert (
        locations == [f"{passage.get_absolute_url()}?group={group.slug}#comment-{comment.pk}"] * 4
    )
