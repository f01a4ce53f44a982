"""A POST with no fields at all (a script, or htmx sending the CSRF token in a header)
is a submitted form with errors, never taken for a first visit: the page says what is
missing."""

import pytest
from django.test import Client
from django.urls import reverse

from discussions import services
from discussions.models import Comment
from groups.models import StudyGroup


@pytest.fixture
def comment(member, group):
    passage = group.text.passages.get(position=1)
    return services.comment_create(author=member, group=group, passage=passage, body="Mine.")


def _as(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("member", lambda group, comment: reverse("comment_edit", args=[group.slug, comment.pk])),
        (
            "facilitator",
            lambda group, comment: reverse("comment_hide", args=[group.slug, comment.pk]),
        ),
        ("member", lambda group, comment: reverse("group_create")),
        ("facilitator", lambda group, comment: reverse("group_edit", args=[group.slug])),
        ("facilitator", lambda group, comment: reverse("question_create", args=[group.slug])),
        (None, lambda group, comment: reverse("signup")),
    ],
    ids=["comment edit", "comment hide", "group create", "group edit", "question", "signup"],
)
def test_an_empty_post_shows_the_form_with_what_is_missing(request, group, comment, who, target):
    user = request.getfixturevalue(who) if who else None
    before = (Comment.objects.get(pk=comment.pk).body, StudyGroup.objects.shared().count())

    response = _as(user).post(target(group, comment), {})

    assert response.status_code in (200, 422)
    html = response.content.decode()
    assert "field-invalid" in html or 'class="form-errors"' in html
    assert (Comment.objects.get(pk=comment.pk).body, StudyGroup.objects.shared().count()) == before
