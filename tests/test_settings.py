"""Settings from the environment: production settings pass `check --deploy`.

Each test runs Django in a subprocess, because settings are read once at import.
The subprocess keeps the parent's database and test-database variables, so it
uses the same PostgreSQL server (DATABASE_URL or the embedded one).
"""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

from sectstudy.settings import env_bool, env_list

# Variables that decide how the project behaves in production; the parent's values
# (a developer's shell, CI) must not leak into the subprocess.
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "LOG_LEVEL",
    "DATABASE_PREPARED_STATEMENTS",
    # Set by the browser tests for Playwright's event loop; never part of a deployment.
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)
PRINT_MAILER = (
    "import django; django.setup(); from django.conf import settings; "
    "mailer = settings.MAILERS['default']; "
    "print(mailer['BACKEND'], mailer.get('OPTIONS', {}).get('host'), "
    "mailer.get('OPTIONS', {}).get('port'), mailer.get('OPTIONS', {}).get('use_tls'))"
)


def production_env(**overrides) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="sectstudy.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),  # 67 characters
        ALLOWED_HOSTS="example.org",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def run_python(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def check_deploy(env) -> subprocess.CompletedProcess:
    return run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)


def test_check_deploy_production_env_reports_no_issues():
    env = production_env()
    assert len(env["SECRET_KEY"]) >= 50

    result = check_deploy(env)

    assert result.stderr == ""
    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.returncode == 0


def test_check_deploy_production_env_with_smtp_reports_no_issues():
    result = check_deploy(production_env(EMAIL_HOST="smtp.example.org"))

    assert result.stdout == "System check identified no issues (0 silenced).\n"
    assert result.returncode == 0


def test_check_deploy_weak_secret_key_fails():
    result = check_deploy(production_env(SECRET_KEY="too-short"))

    assert result.returncode == 1
    assert "security.W009" in result.stderr


def test_check_deploy_without_hsts_fails():
    result = check_deploy(production_env(SECURE_HSTS_SECONDS="0"))

    assert result.returncode == 1
    assert "security.W004" in result.stderr


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_settings_debug_off_without_secret_key_fails_clearly(secret_key):
    result = check_deploy(production_env(SECRET_KEY=secret_key))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.rstrip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off."
    )


def test_settings_production_without_email_host_sends_through_local_smtp():
    result = run_python(["-c", PRINT_MAILER], production_env())

    assert result.stdout == "django.core.mail.backends.smtp.EmailBackend localhost 25 False\n"
    assert result.returncode == 0


def test_settings_production_with_email_host_uses_it():
    result = run_python(["-c", PRINT_MAILER], production_env(EMAIL_HOST="smtp.example.org"))

    assert (
        result.stdout == "django.core.mail.backends.smtp.EmailBackend smtp.example.org 587 True\n"
    )
    assert result.returncode == 0


PRINT_CONNECTION_AGE = (
    "import django; django.setup(); from django.conf import settings; "
    "database = settings.DATABASES['default']; "
    "print(database['CONN_MAX_AGE'], database['CONN_HEALTH_CHECKS'])"
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # A DATABASE_URL's parser would say 0: a new connection for every request.
        ({"DATABASE_URL": "postgres://someone@db.example.org/sectstudy"}, "60 True\n"),
        ({}, "60 True\n"),
        ({"DATABASE_CONN_MAX_AGE": "5"}, "5 True\n"),
        ({"DEBUG": "1", "SECRET_KEY": None}, "0 True\n"),
    ],
)
def test_settings_production_workers_keep_their_database_connection(overrides, expected):
    result = run_python(["-c", PRINT_CONNECTION_AGE], production_env(**overrides))

    assert result.stdout == expected
    assert result.returncode == 0


PRINT_PREPARED = (
    "import django; django.setup(); from django.conf import settings; "
    "options = settings.DATABASES['default']['OPTIONS']; "
    "print(options.get('server_side_binding'), options.get('prepare_threshold'))"
)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "True 5\n"),
        ({"DEBUG": "1", "SECRET_KEY": None}, "True 5\n"),
        # Behind a pooler that cannot keep a session's prepared statements.
        ({"DATABASE_PREPARED_STATEMENTS": "0"}, "None None\n"),
    ],
)
def test_settings_database_prepares_repeated_statements_unless_told_not_to(overrides, expected):
    result = run_python(["-c", PRINT_PREPARED], production_env(**overrides))

    assert result.stdout == expected
    assert result.returncode == 0


@pytest.mark.django_db
def test_settings_a_query_run_again_and_again_is_prepared_once():
    from django.contrib.auth.models import User
    from django.db import connection

    for attempt in range(6):  # prepared on the sixth run
        list(User.objects.filter(username=f"nobody-{attempt}"))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "auth_user" WHERE "auth_user"."username" = $1%'],
        )
        assert cursor.fetchone()[0] == 1


def test_settings_development_without_email_host_uses_console():
    result = run_python(["-c", PRINT_MAILER], production_env(DEBUG="1", SECRET_KEY=None))

    assert result.stdout == "django.core.mail.backends.console.EmailBackend None None None\n"
    assert result.returncode == 0


# The environment helpers ------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, True),
        ("", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("1", True),
        ("true", True),
        (" Yes ", True),
        ("ON", True),
        ("anything else", False),
    ],
)
def test_env_bool_reads_value(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("SECTSTUDY_TEST_FLAG", raising=False)
    else:
        monkeypatch.setenv("SECTSTUDY_TEST_FLAG", value)

    assert env_bool("SECTSTUDY_TEST_FLAG", True) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ["default.example"]),
        ("", ["default.example"]),
        ("example.org", ["example.org"]),
        (" a.example , b.example,,", ["a.example", "b.example"]),
    ],
)
def test_env_list_reads_value(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("SECTSTUDY_TEST_LIST", raising=False)
    else:
        monkeypatch.setenv("SECTSTUDY_TEST_LIST", value)

    assert env_list("SECTSTUDY_TEST_LIST", ["default.example"]) == expected


def test_pages_are_sent_compressed_to_browsers_that_accept_it(client, essay):
    plain = client.get("/texts/anatomy-of-the-sect/1/")
    compressed = client.get("/texts/anatomy-of-the-sect/1/", headers={"accept-encoding": "gzip"})

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert len(compressed.content) < len(plain.content) / 2
    assert "Accept-Encoding" in compressed["Vary"]
