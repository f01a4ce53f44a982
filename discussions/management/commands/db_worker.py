"""`manage.py db_worker`: django-tasks-db's worker, which first takes back the tasks a
worker that died left RUNNING.

django-tasks-db (0.13) marks a task RUNNING when a worker claims it and leaves it so if
the worker dies before recording the end (a PostgreSQL restart fails that write, a
kill, a crash); nothing runs it again (django-tasks issue #46). At start, this worker
puts back to READY the RUNNING tasks last claimed under its own `--worker-id` (a worker
restarted under a stable id, as the systemd unit and `make run` start it, knows its
previous run is over) and those RUNNING longer than TASKS_STALE_AFTER (whatever worker
claimed them: one that never came back). The email tasks are safe to run again: each
notification is emailed at most once (discussions.tasks).

This command takes the place of django-tasks-db's own because discussions comes before
django_tasks_db in INSTALLED_APPS.
"""

import logging

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from discussions.tasks import recover_stale_tasks

logger = logging.getLogger("django_tasks_db")


class Command(DatabaseWorkerCommand):
    help = (
        "Run a database background worker, first taking back the tasks a worker that died "
        "left running"
    )

    def handle(self, *, backend_name: str, worker_id: str, verbosity: int, **options) -> None:
        self.configure_logging(verbosity)
        recovered = recover_stale_tasks(backend_name=backend_name, worker_id=worker_id)
        if recovered:
            logger.warning("Put back %s task(s) left running by a worker that stopped", recovered)
        super().handle(
            backend_name=backend_name, worker_id=worker_id, verbosity=verbosity, **options
        )
