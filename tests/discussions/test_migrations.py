"""Migrations that change existing rows, run against rows like those in service."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("discussions", "0011_daily_digest")]
AFTER = [("discussions", "0012_comment_depth_and_changes")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_comment_depth_and_changes_backfill_existing_threads(essay):
    from tests.factories import make_group, make_user

    author = make_user("writer")
    group = make_group(essay, facilitator=author, members=[])
    apps = migrate(BEFORE)
    comment = apps.get_model("discussions", "Comment")
    passage_id = essay.passages.get(position=1).pk

    def add(parent=None, **times):
        return comment.objects.create(
            group_id=group.pk,
            passage_id=passage_id,
            author_id=author.pk,
            parent=parent,
            root=(parent.root or parent) if parent else None,
            body="Words.",
            body_html="<p>Words.</p>",
            **times,
        )

    top = add()
    reply = add(parent=top)
    deep = add(parent=reply)
    edited = add(edited_at=top.created_at.replace(year=2030))

    try:
        apps = migrate(AFTER)
        migrated = apps.get_model("discussions", "Comment").objects.in_bulk()
        assert [migrated[c.pk].depth for c in (top, reply, deep, edited)] == [0, 1, 2, 0]
        assert migrated[top.pk].updated_at == top.created_at
        assert migrated[edited.pk].updated_at == edited.edited_at
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_comments_deleted_before_quotes_were_cleared_lose_their_quote(essay):
    from discussions.models import Comment
    from tests.factories import make_group, make_user

    author = make_user("writer")
    group = make_group(essay, facilitator=author, members=[])
    passage = essay.passages.get(position=1)
    migrate([("discussions", "0013_discussion_count_and_thread_indexes")])
    words = {"quote_exact": "the words", "quote_original": "the words", "quote_start": 4}
    words["quote_end"] = 4 + len(words["quote_exact"])
    deleted, kept = (
        Comment.objects.create(
            group=group, passage=passage, author=author, body=body, body_html=body, **words
        )
        for body in ("", "Still here.")
    )
    Comment.objects.filter(pk=deleted.pk).update(deleted_at=deleted.created_at)

    migrate([("discussions", "0014_tombstones_keep_no_words")])

    deleted.refresh_from_db()
    kept.refresh_from_db()
    assert (deleted.quote_exact, deleted.quote_original, deleted.quote_start) == ("", "", None)
    assert (kept.quote_exact, kept.body) == ("the words", "Still here.")
