"""Migrations that change existing groups, run against rows like those in service."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from groups.models import StudyGroup


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_group_names_saved_with_line_breaks_are_put_on_one_line(group):
    migrate([("groups", "0010_submission_ids")])
    StudyGroup.objects.filter(pk=group.pk).update(name="Night\u2028readers\tof\x85Ely")
    untouched = StudyGroup.objects.create(text=group.text, name="Day readers", slug="day")

    migrate([("groups", "0011_group_names_on_one_line")])

    assert StudyGroup.objects.get(pk=group.pk).name == "Night readers of Ely"
    assert StudyGroup.objects.get(pk=untouched.pk).name == "Day readers"
