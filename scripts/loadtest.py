#!/usr/bin/env python3
"""Load test: two gunicorn servers with production settings (and the task worker, when
TASKS has one) on one throw-away PostgreSQL, driven by simulated members.

    python scripts/loadtest.py --members 50 --seconds 60 --servers 2
    python scripts/loadtest.py --fault db-restart      # PostgreSQL down ~5 s mid-run

Afterwards it checks in the database that every write the members saw acknowledged
is stored exactly once, that threads are consistent trees, that no row is duplicated
and that every reply email expected was sent once; it prints requests, statuses,
p50/p99 and the checks, and exits 1 on any loss, duplicate or unexpected 5xx (2 when
it could not set up). Everything it starts listens on loopback and is stopped on the
way out, also on Ctrl-C, errors or its own time limit.
"""

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime
from pathlib import Path

from loadkit.browser import Browser
from loadkit.members import Discussion, Member, Plan, Recorder
from loadkit.postgres import ThrowawayPostgres, free_port
from loadkit.report import FaultEvents, build
from loadkit.smtp_sink import SmtpSink
from loadkit.verify import Check, Verifier

ROOT = Path(__file__).resolve().parent.parent
SETUP_SCRIPT = Path(__file__).resolve().parent / "loadkit" / "setup_members.py"
KEEP_LOGS = 10  # runs whose logs stay in --log-dir
SETUP_BUDGET = 300  # seconds for everything before the clock starts


class SetupError(Exception):
    pass


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--fault", choices=["none", "db-restart"], default="none")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--fault-at", type=float, help="seconds into the run (default: a third)")
    parser.add_argument("--outage", type=float, default=5, help="seconds PostgreSQL stays down")
    parser.add_argument(
        "--form-logins",
        type=int,
        default=2,
        help="members who log in through the login form; the others get a session made "
        "in the set-up (a production-strength password hash costs ~1-2 s of CPU each)",
    )
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument("--grace", type=float, help="seconds to keep retrying after the end")
    parser.add_argument("--recovery-grace", type=float, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--log-dir", type=Path, default=ROOT / "var" / "loadtest")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if args.fault_at is None:
        args.fault_at = args.seconds / 3
    if args.grace is None:
        args.grace = max(10.0, 3 * args.outage if args.fault != "none" else 10.0)
    return args


class Harness:
    """Everything the run starts, and the one place that stops it all."""

    def __init__(self, log_dir: Path):
        self.tmp = Path(tempfile.mkdtemp(prefix="sectstudy-load-"))
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.pg = ThrowawayPostgres(self.tmp)
        self.sink = SmtpSink()
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.restarts: list[tuple[float, str, int]] = []  # (when, name, exit code)
        self.stopping = threading.Event()
        self._cleaned = threading.Lock()

    def run(self, name: str, argv: list[str], env: dict, timeout: float = 180) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        (self.log_dir / f"{name}.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise SetupError(f"{name} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result.stdout

    def migrate_and_collect_static(self, env: dict, timeout: float = 300) -> None:
        """`migrate` and `collectstatic` for the run's app servers, side by side."""
        python = sys.executable
        static = subprocess.Popen(  # noqa: S603 - our own interpreter
            [python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.run("migrate", [python, "manage.py", "migrate", "--noinput", "-v0"], env, timeout)
        _out, static_err = static.communicate(timeout=timeout)
        if static.returncode != 0:
            raise SetupError(f"collectstatic failed: {static_err.decode()[-2000:]}")

    def spawn(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(  # noqa: S603 - our own interpreter
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, by its id
        )
        log.close()
        self.processes.append((name, process))
        return process

    def supervise(self, name: str, argv: list[str], env: dict) -> None:
        """Keep a process running, as systemd's Restart=always does for the task worker
        in production (README): each exit is recorded and it is started again."""

        def keep_running():
            process = self.spawn(name, argv, env)
            while not self.stopping.wait(0.5):
                if process.poll() is not None:
                    self.restarts.append((time.monotonic(), name, process.returncode))
                    time.sleep(1)
                    if self.stopping.is_set():
                        return
                    process = self.spawn(f"{name}-{len(self.restarts) + 1}", argv, env)

        threading.Thread(target=keep_running, name=f"supervise-{name}", daemon=True).start()

    def stop_processes(self, names=None) -> None:
        self.stopping.set()
        chosen = [(n, p) for n, p in self.processes if names is None or n in names]
        for _name, process in chosen:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, process in chosen:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def cleanup(self) -> None:
        if not self._cleaned.acquire(blocking=False):
            return
        try:
            self.stop_processes()
        finally:
            self.pg.cleanup()
            if self.pg.log.exists():
                shutil.copy(self.pg.log, self.log_dir / "postgres.log")
            self.sink.stop()
            shutil.rmtree(self.tmp, ignore_errors=True)


def app_env(pg: ThrowawayPostgres, sink: SmtpSink, site_port: int) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "SITE_URL": f"http://127.0.0.1:{site_port}",
            "DATABASE_URL": pg.url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(sink.port),
            "EMAIL_USE_TLS": "0",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "sectstudy.settings",
        }
    )
    return env


def wait_until_serving(ports: list[int], harness: Harness, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    waiting = set(ports)
    while waiting:
        for name, process in harness.processes:
            if process.poll() is not None:
                raise SetupError(f"{name} exited with {process.returncode}; see {harness.log_dir}")
        for port in sorted(waiting):
            try:
                if (
                    Browser("127.0.0.1", port).request("GET", "/accounts/login/", timeout=10).status
                    == 200
                ):
                    waiting.discard(port)
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise SetupError(f"servers on ports {sorted(waiting)} did not answer in {timeout} s")
        time.sleep(0.2)


def worker_command(setup: dict) -> tuple[list[str] | None, str]:
    backends = setup["tasks"]
    uses_db = any("django_tasks_db" in b or "DatabaseBackend" in b for b in backends.values())
    if uses_db:
        return (
            # A stable id, as the README's systemd unit gives it: a restarted worker
            # runs again the task it was running when it died.
            [sys.executable, "manage.py", "db_worker", "--worker-id", "loadtest-worker"],
            f"task worker: manage.py db_worker (TASKS: {backends})",
        )
    return (
        None,
        f"task worker: skipped, TASKS has no database queue ({backends}); emails are sent by the web processes",
    )


def run_fault(pg: ThrowawayPostgres, start: float, at: float, outage: float, events: FaultEvents):
    time.sleep(max(0.0, start + at - time.monotonic()))
    try:
        events.stop_begin = time.monotonic()
        pg.stop(mode="fast")
        events.stop_done = time.monotonic()
        time.sleep(outage)
        events.start_begin = time.monotonic()
        pg.start()
        events.ready = time.monotonic()
    except Exception as exc:  # reported, and the run fails
        events.error = f"{type(exc).__name__}: {exc}"


EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Shutdown|Warning)\b.*")
# Where a log record starts: Django's "<reason>: <path>" for a 5xx, gunicorn's "[...]",
# the worker's "Task id=...", or a traceback that does not continue a chained one.
RECORD_START = re.compile(r"^([A-Z][A-Za-z ]+: /|\[|Task id=)")
CHAINED = ("During handling of the above exception", "The above exception was the direct cause")


def server_errors(log_dir: Path) -> list[str]:
    """What the app servers and the worker logged as errors, grouped: the final exception
    of each traceback (the one that ended the request), how often, and one example."""
    groups: dict[str, list] = {}
    for log in sorted(log_dir.glob("*.log")):
        if not log.name.startswith(("server", "worker")):
            continue
        block: list[str] = []
        for line in [*log.read_text(errors="replace").splitlines(), "[end]"]:
            previous = next((li for li in reversed(block) if li.strip()), "")
            starts = RECORD_START.match(line) or (
                line.startswith("Traceback")
                and not previous.startswith(CHAINED)
                and not RECORD_START.match(previous)
            )
            if starts:
                if any(li.startswith("Traceback") for li in block):
                    final = next((li for li in reversed(block) if EXCEPTION_LINE.match(li)), "?")
                    final = re.sub(r"port \d+", "port N", final)[:160]
                    where = block[0][:100] if RECORD_START.match(block[0]) else log.name
                    entry = groups.setdefault(final, [0, where])
                    entry[0] += 1
                block = []
            block.append(line)
    return [
        f"{count} x {final}  (e.g. {where})"
        for final, (count, where) in sorted(groups.items(), key=lambda kv: -kv[1][0])
    ]


def stop_on_signal(signum, frame):
    print(f"loadtest: signal {signum}; stopping everything", file=sys.stderr, flush=True)
    sys.exit(128 + signum)


def main(argv=None) -> int:
    args = parse_args(argv)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    harness = Harness(args.log_dir / stamp)
    for old in sorted(p for p in args.log_dir.iterdir() if p.is_dir())[:-KEEP_LOGS]:
        shutil.rmtree(old, ignore_errors=True)
    hard_limit = SETUP_BUDGET + args.seconds + args.grace + args.timeout + 120

    def hard_stop():
        print(
            f"loadtest: over its time limit ({hard_limit:.0f} s); stopping everything", flush=True
        )
        harness.cleanup()
        os._exit(3)

    watchdog = threading.Timer(hard_limit, hard_stop)
    watchdog.daemon = True
    watchdog.start()
    # Ctrl-C and SIGTERM stop the run and everything it started (also when started in
    # the background, where a shell leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop_on_signal)
    try:
        return run(args, harness)
    except SetupError as error:
        print(f"loadtest: set-up failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("loadtest: interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        watchdog.cancel()
        harness.cleanup()
        print(f"logs: {harness.log_dir}")


def run(args, harness: Harness) -> int:
    notes: list[str] = []
    problems: list[str] = []
    clock = time.monotonic()

    def step(message):
        print(f"[{time.monotonic() - clock:6.1f} s] {message}", flush=True)

    step(f"PostgreSQL: initdb in {harness.tmp}")
    harness.pg.init()
    harness.pg.start()
    harness.pg.create_database()
    harness.sink.start()
    ports = [free_port() for _ in range(args.servers)]
    env = app_env(harness.pg, harness.sink, ports[0])
    python = sys.executable
    step("migrate and collectstatic")
    harness.migrate_and_collect_static(env)
    step(f"{args.servers} gunicorn servers on ports {ports}, demo data and {args.members} members")
    for index, port in enumerate(ports):
        harness.spawn(
            f"server{index + 1}",
            [
                python,
                "-m",
                "gunicorn",
                "sectstudy.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--timeout",
                str(int(args.timeout) + 30),
                "--graceful-timeout",
                "5",
            ],
            env,
        )
    # The servers boot while the demo data and members are made: they touch the
    # database only when the first request comes.
    password = secrets.token_urlsafe(16)
    setup_env = {
        **env,
        "LOADTEST_MEMBERS": str(args.members),
        "LOADTEST_FORM_LOGINS": str(min(args.form_logins, args.members)),
        "LOADTEST_PASSWORD": password,
    }
    output = harness.run(
        "setup",
        [python, "manage.py", "shell", "-v", "0", "-c", SETUP_SCRIPT.read_text()],
        setup_env,
    )
    line = next((li for li in output.splitlines() if li.startswith("LOADTEST-SETUP ")), None)
    if line is None:
        raise SetupError(f"the set-up printed no result:\n{output[-2000:]}")
    setup = json.loads(line.removeprefix("LOADTEST-SETUP "))
    harness.sink.clear()

    command, worker_note = worker_command(setup)
    notes.append(worker_note)
    if command:
        harness.supervise("worker", command, env)
    wait_until_serving(ports, harness)

    recorder = Recorder()
    plan = Plan(
        ports=ports,
        text=setup["text"],
        group=setup["group"],
        passages=len(setup["passages"]),
        questions=setup["questions"],
        run_id=datetime.now().strftime("%H%M%S"),
        think=tuple(args.think),
        timeout=args.timeout,
    )
    discussion = Discussion(setup["comments"])
    members = [
        Member(
            name=m["username"],
            plan=plan,
            discussion=discussion,
            recorder=recorder,
            seed=args.seed * 1000 + n,
            login=("session", m["session"]) if m["session"] else ("password", password),
        )
        for n, m in enumerate(setup["members"])
    ]
    step(f"{len(members)} members log in ({min(args.form_logins, args.members)} through the form)")
    for member in members:
        member.start()
    deadline = time.monotonic() + 180
    for member in members:
        member.ready.wait(timeout=max(0.1, deadline - time.monotonic()))
    for member in members:
        if not member.ready.is_set():
            problems.append(f"{member.username} was not ready in time")
        elif member.failed_setup:
            problems.append(f"member set-up failed: {member.failed_setup}")

    step(f"run: {args.seconds:.0f} s" + (f", fault {args.fault}" if args.fault != "none" else ""))
    start = time.monotonic()
    plan.deadline = start + args.seconds
    plan.retry_deadline = plan.deadline + args.grace
    fault = None
    fault_thread = None
    if args.fault == "db-restart":
        fault = FaultEvents()
        fault_thread = threading.Thread(
            target=run_fault,
            args=(harness.pg, start, args.fault_at, args.outage, fault),
            daemon=True,
        )
        fault_thread.start()
    for member in members:
        member.go.set()
    for member in members:
        member.join(timeout=max(0.1, plan.retry_deadline + args.timeout + 10 - time.monotonic()))
        if member.is_alive():
            problems.append(f"{member.username} still busy after the run; left behind")
    if fault_thread is not None:
        fault_thread.join(timeout=120)
        if not harness.pg.started:
            problems.append("PostgreSQL is not running after the fault")
            harness.pg.start()
    for name, process in harness.processes:
        if process.poll() is not None and not name.startswith("worker"):
            problems.append(f"{name} exited during the run with {process.returncode}")
    for when, name, code in harness.restarts:
        notes.append(
            f"{name} exited with {code} at {when - start:.1f} s and was started again"
            " (as systemd's Restart=always would)"
        )
    problems.extend(f"member crashed: {crash}" for crash in recorder.crashes)

    step("checking the database")
    checks: list[Check]
    with harness.pg.connect() as connection:
        verifier = Verifier(connection, setup, recorder.writes)
        checks = verifier.run(emails=lambda: harness.sink.messages, wait_for_emails=30)
        counts = verifier.counts
    harness.stop_processes()
    errors = server_errors(harness.log_dir)
    if errors:
        notes.append("errors in the server logs (final exception, count, an example):")
        notes.extend(f"  {e}" for e in errors[:15])
    config = {
        "members": args.members,
        "seconds": args.seconds,
        "servers": args.servers,
        "workers": args.workers,
        "fault": args.fault,
    }
    verdict = build(
        config=config,
        start=start,
        exchanges=recorder.exchanges,
        counts=counts,
        checks=checks,
        fault=fault,
        recovery_grace=args.recovery_grace,
        notes=notes,
        problems=problems,
    )
    print("\n".join(verdict.lines), flush=True)
    if args.json:
        args.json.write_text(json.dumps(verdict.data, indent=2, default=str))
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(2)
