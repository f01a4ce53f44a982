"""Settings for sectstudy. Everything that differs between machines comes from the environment."""

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from sectstudy.db import database_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "axes",
    "reading",
    "groups",
    "discussions",
    "exports",
    "search",
    "pages",
    # After discussions, whose `db_worker` (recovering tasks a dead worker left running)
    # takes the place of this app's.
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Pages compress to about a fifth. Django's GZip pads each response with random
    # bytes ("Heal the BREACH") and masks the CSRF token per response, so compressing
    # pages that hold secrets does not let them be guessed byte by byte.
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "groups.timezones.ReaderTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "sectstudy.middleware.VaryOnHtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# Login attempts are counted in the database (django-axes), so every app server
# shares them: after 10 wrong passwords for one account from one address, logging in
# to it from there waits 15 minutes and the page says so (429); after 50 from one
# address, whatever the accounts, that address waits (groups.throttling).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
# The pair, not either: a stranger who knows a member's name cannot lock them out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "groups.throttling.LoginFailureHandler"
AXES_USERNAME_CALLABLE = "groups.throttling.login_username"
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "groups.views.login_locked_out"
AXES_VERBOSE = False

ROOT_URLCONF = "sectstudy.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "discussions.context_processors.notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "sectstudy.wsgi.application"

DATABASES = {"default": database_config(BASE_DIR)}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# An unreachable or stuck database fails a request within seconds (503), not minutes.
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault(
    "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
)
DATABASES["default"]["OPTIONS"].setdefault(
    "options",
    f"-c statement_timeout={int(os.environ.get('DATABASE_STATEMENT_TIMEOUT_MS', '30000'))}",
)
# Each worker keeps its connection for a minute (health-checked before reuse): opening
# one per request cost more than most pages. Set here, not left to DATABASE_URL's
# parser, whose default of 0 reconnected on every request.
DATABASES["default"]["CONN_MAX_AGE"] = int(
    os.environ.get("DATABASE_CONN_MAX_AGE", "0" if DEBUG else "60")
)
# Parameters travel apart from the SQL, so a kept connection prepares each statement
# after it has run five times (psycopg's threshold) and PostgreSQL parses it only once;
# once it settles on a generic plan, it stops planning it too. For the pages' counting
# queries, planning cost more than running. Workers must restart after a migration that
# changes a column's type (a prepared statement's result type is fixed). A pooler in
# transaction mode that cannot keep prepared statements needs
# DATABASE_PREPARED_STATEMENTS=0.
if env_bool("DATABASE_PREPARED_STATEMENTS", True):
    DATABASES["default"]["OPTIONS"].setdefault("server_side_binding", True)
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)
DATABASES["default"].setdefault("TEST", {})
if os.environ.get("TEST_DATABASE_NAME"):
    # Lets two test runs share one server without sharing a test database.
    DATABASES["default"]["TEST"]["NAME"] = os.environ["TEST_DATABASE_NAME"]

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rendered comments (`{% cache %}` in _comment.html, keyed by comment_variant): each
    # worker keeps its own, a changed comment is a new key, so nothing needs clearing
    # and nothing needs sharing between workers. 1,500 parts of about 2.6 KB: 4 MB.
    "template_fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "template-fragments",
        "OPTIONS": {"MAX_ENTRIES": 1500},
    },
    # Members' site headers (base.html), keyed by who they are and their unread count,
    # apart from the comments so that neither pushes the other out. 1,000 of about
    # 3 KB: 3 MB.
    "site_headers": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "site-headers",
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}

# Email (Django 6.1 mailers): SMTP when EMAIL_HOST is set; otherwise the console in
# development and, in production, a local mail server on localhost:25 (Django's own
# default), never the console, where password-reset mail would silently vanish.
email_host = os.environ.get("EMAIL_HOST", "")
if email_host or not DEBUG:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": email_host or "localhost",
                "port": int(os.environ.get("EMAIL_PORT", "587" if email_host else "25")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", bool(email_host)),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "sectstudy <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (emails) goes through Django's tasks framework. In production the
# tasks wait in PostgreSQL (django-tasks-db) for `manage.py db_worker`; in development
# and tests they run right after the request's transaction commits, unless
# TASKS_BACKEND=database (as `make run` sets, starting a worker beside the server).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "immediate" if DEBUG else "database")
# A task RUNNING for longer than this is taken to be left by a worker that died, and
# runs again when a worker starts (discussions/management/commands/db_worker.py). Emails
# take seconds; the bound is far above that.
TASKS_STALE_AFTER = timedelta(minutes=int(os.environ.get("TASK_STALE_MINUTES", "30")))
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if TASKS_BACKEND == "database"
            else "django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# Content Security Policy: nonce-based, no inline scripts or styles.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# How often an open passage page asks for new comments.
DISCUSSION_POLL_SECONDS = int(os.environ.get("DISCUSSION_POLL_SECONDS", "15"))
