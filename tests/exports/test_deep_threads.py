"""A thread of replies deeper than Python's recursion limit exports and restores whole:
nothing between the database and the file recurses once per level."""

import json
import sys

from django.urls import reverse

from discussions.models import Comment
from exports.formats import QUOTE_LEVELS
from exports.services import group_import
from groups.models import StudyGroup
from tests.discussions.helpers import logged_in, reply_chain

DEEPER_THAN_RECURSION = sys.getrecursionlimit() + 100


def download(user, name, group) -> str:
    response = logged_in(user).get(reverse(name, args=[group.slug]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8")


def test_a_thread_of_any_depth_exports_and_restores_whole(essay, group, facilitator, member):
    passage = essay.passages.get(position=1)
    chain = reply_chain(group, passage, [member, facilitator], DEEPER_THAN_RECURSION)
    deepest = DEEPER_THAN_RECURSION - 1

    markdown = download(member, "export_discussion_markdown", group)
    # Each reply quoted one level deeper than its parent down to QUOTE_LEVELS; deeper
    # ones at that level, saying whom they answer: the file grows with the thread only.
    lines = markdown.splitlines()
    quote = "> " * QUOTE_LEVELS
    assert "> > Depth 1 words." in lines
    assert f"{quote}Depth {deepest} words." in lines
    assert not any(line.startswith(quote + ">") for line in lines)
    deepest_header = lines[lines.index(f"{quote}Depth {deepest} words.") - 2]
    assert deepest_header.startswith(f"{quote}**facilitator** replied on ")
    assert deepest_header.endswith(", replying to **member**")
    assert len(markdown) < 200 * DEEPER_THAN_RECURSION

    rows = download(member, "export_discussion_csv", group).splitlines()
    assert len(rows) == 1 + DEEPER_THAN_RECURSION

    backup = download(facilitator, "export_group_json", group)
    assert len(json.loads(backup)["comments"]) == DEEPER_THAN_RECURSION

    restored = group_import(data=backup, slug="restored-deep")
    copies = Comment.objects.filter(group=StudyGroup.objects.get(slug="restored-deep"))
    assert restored is not None
    assert sorted(copies.values_list("depth", flat=True)) == [c.depth for c in chain]
