"""Destructive actions ask first, with one mechanism: each is a link (marked
data-confirm-dialog) to its confirmation page (templates/confirm.html), whose form does it.
static/js/confirm.js shows that page's form in a dialog; without JavaScript the link leads
to the page. Opening a confirmation page changes nothing. (tests/browser/test_confirmations
drives the dialog.)"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from discussions import services
from discussions.models import Comment, Question
from groups.models import Meeting, Membership
from tests.factories import logged_in

ROOT = Path(settings.BASE_DIR)


def test_no_page_uses_the_browsers_confirm_box():
    files = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/js/*.js")]
    found = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in files
        for match in re.finditer(r"hx-confirm|\bconfirm\(", path.read_text(encoding="utf-8"))
    ]
    assert len(files) > 40
    assert found == []


@pytest.fixture
def world(group, facilitator, member):
    passage = group.text.passages.get(position=2)
    question = services.question_create(
        facilitator=facilitator, group=group, body="Why?", first_position=2, last_position=2
    )
    return {
        "comment": services.comment_create(
            author=member, group=group, passage=passage, body="A thought."
        ),
        "answer": services.answer_save(author=member, question=question, body="Because."),
        "question": question,
        "meeting": Meeting.objects.create(
            group=group,
            starts_at=timezone.now() + timedelta(days=3),
            first_position=1,
            last_position=2,
        ),
        "membership": Membership.objects.get(group=group, user=member),
    }


def _state(group):
    group.refresh_from_db()
    return (
        Comment.objects.count(),
        Question.objects.count(),
        Membership.objects.filter(group=group).count(),
        list(Meeting.objects.values_list("cancelled_at", flat=True)),
        group.invite_token,
    )


# (action, who, the page with the link, the link, the confirmation page's question)
ACTIONS = [
    (
        "delete a comment",
        "member",
        lambda g, w: f"/texts/{g.text.slug}/2/?group={g.slug}",
        lambda g, w: reverse("comment_delete", args=[g.slug, w["comment"].pk]),
        "Delete your comment?",
    ),
    (
        "delete an answer",
        "member",
        lambda g, w: w["question"].get_absolute_url(),
        lambda g, w: reverse("comment_delete", args=[g.slug, w["answer"].pk]),
        "Delete your answer?",
    ),
    (
        "delete a question",
        "facilitator",
        lambda g, w: w["question"].get_absolute_url(),
        lambda g, w: reverse("question_delete", args=[g.slug, w["question"].pk]),
        "Delete this question?",
    ),
    (
        "remove a member",
        "facilitator",
        lambda g, w: g.get_absolute_url(),
        lambda g, w: reverse("member_remove", args=[g.slug, w["membership"].pk]),
        "Remove member from Reading circle?",
    ),
    (
        "cancel a meeting",
        "facilitator",
        lambda g, w: g.get_absolute_url(),
        lambda g, w: reverse("meeting_cancel", args=[g.slug, w["meeting"].pk]),
        "Cancel the meeting of {day}?",
    ),
    (
        "leave the group",
        "member",
        lambda g, w: g.get_absolute_url(),
        lambda g, w: reverse("group_leave", args=[g.slug]),
        "Leave Reading circle?",
    ),
    (
        "make a new invitation link",
        "facilitator",
        lambda g, w: g.get_absolute_url(),
        lambda g, w: reverse("invitation_regenerate", args=[g.slug]),
        "Make a new invitation link?",
    ),
]


@pytest.mark.parametrize(
    ("who", "page", "link", "heading"),
    [pytest.param(*action[1:], id=action[0]) for action in ACTIONS],
)
def test_a_destructive_action_links_to_its_confirmation_page_which_changes_nothing(
    request, group, world, who, page, link, heading
):
    client = logged_in(request.getfixturevalue(who))
    href = link(group, world)
    before = _state(group)

    html = client.get(page(group, world)).content.decode()
    marked = rf'<a [^>]*href="{re.escape(href)}"[^>]* data-confirm-dialog[ >]'
    assert len(re.findall(marked, html)) == 1

    response = client.get(href)
    confirmation = response.content.decode()
    day = f"{timezone.localtime(world['meeting'].starts_at):%A %-d %B}"
    assert response.status_code == 200
    assert '<div class="narrow confirm-page" data-confirm>' in confirmation
    assert f'<h1 id="confirm-heading">{heading.format(day=day)}</h1>' in confirmation
    assert f'<form method="post" action="{href}" class="stacked-form confirm-form">' in (
        confirmation
    )
    assert confirmation.count("data-confirm-keep>") == 1
    assert _state(group) == before
