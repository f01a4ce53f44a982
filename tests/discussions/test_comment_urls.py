import pytest
from django.template import Context, Template
from django.urls import reverse

from discussions.models import Comment
from groups.models import StudyGroup

NAMES = [
    "comment_thread",
    "comment_reply",
    "comment_edit",
    "comment_delete",
    "comment_helpful",
    "comment_hide",
    "comment_unhide",
    "comment_pin",
    "answer_highlight",
    "quote_reattach",
]


@pytest.mark.parametrize("slug", ["night-readers", "group-918273645-x"])
@pytest.mark.parametrize("name", NAMES)
def test_comment_url_is_what_reverse_gives(name, slug):
    group, comment = StudyGroup(slug=slug), Comment(pk=42)

    rendered = Template("{% load comment_urls %}{% comment_url name group comment %}").render(
        Context({"name": name, "group": group, "comment": comment})
    )

    assert rendered == reverse(name, args=[slug, 42])
