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
