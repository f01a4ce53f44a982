"""Project-level views: the health check and the server error pages."""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def server_error(request):
    """handler500. While the database is unreachable the answer is an honest 503 with
    Retry-After; the pages are plain HTML that need no database to render."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        response = HttpResponseServerError(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return HttpResponseServerError(render_to_string("500.html"))


@never_cache
@require_safe
def healthz(request):
    """For a load balancer: can this server reach the database and the task queue?"""
    checks = {"database": "ok", "task_queue": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        checks["database"] = "unreachable"
    checks["task_queue"] = _task_queue_state() if checks["database"] == "ok" else "unknown"
    healthy = all(value in ("ok", "immediate") for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def _task_queue_state() -> str:
    from django.conf import settings

    if settings.TASKS_BACKEND != "database":
        return "immediate"  # tasks run in the web process: nothing to reach
    from django_tasks_db.models import DBTaskResult

    try:
        DBTaskResult.objects.exists()
    except DatabaseError:
        return "unreachable"
    return "ok"
