"""`manage.py backup_db` and `restore_db`: the whole database through pg_dump and pg_restore."""

import uuid
from io import StringIO

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import make_text


def _server(dbname: str):
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=dbname,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    )


@pytest.fixture
def scratch_database():
    name = f"scratch_{uuid.uuid4().hex[:12]}"
    with _server("postgres") as server:
        server.execute(f'CREATE DATABASE "{name}"')
    yield name
    with _server("postgres") as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_another_database(tmp_path, scratch_database):
    text = make_text(passages=2, title="Backed up essay")
    path = tmp_path / "sectstudy.dump"
    out = StringIO()
    call_command("backup_db", str(path), stdout=out)
    assert out.getvalue().startswith(f"Backed up the database to {path} (")
    assert path.read_bytes().startswith(b"PGDMP")
    call_command("restore_db", str(path), "--database", scratch_database, stdout=out)
    with _server(scratch_database) as restored:
        rows = restored.execute(
            "SELECT t.title, count(p.id) FROM reading_text t JOIN reading_passage p "
            "ON p.text_id = t.id WHERE t.slug = %s GROUP BY t.title",
            [text.slug],
        ).fetchall()
    assert rows == [("Backed up essay", 2)]


def test_restore_of_a_bad_file_says_so(tmp_path, db):
    path = tmp_path / "not-a-dump"
    path.write_bytes(b"nothing here")
    with pytest.raises(CommandError, match="pg_restore failed .* Nothing was restored"):
        call_command("restore_db", str(path), "--yes", "--database", "postgres")
