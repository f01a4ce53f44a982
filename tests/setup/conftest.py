"""A lab for the embedded PostgreSQL's lifecycle: real processes on throw-away data directories.

Fixtures:
- ``lab``: makes data directories (copies of one initialised per test session), starts
  clients (a Python process that connects and waits) and ``manage.py runserver``, and finds
  the PostgreSQL servers and watchdogs of a data directory. Whatever a test started is
  killed at its end, and so is any server or watchdog left on its data directories.

Nothing here waits a fixed time: every wait polls for its condition until a deadline.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from sectstudy.db import RELOCATION_ROOT

DEADLINE = 60  # seconds; a healthy start or stop takes well under one

# Connects the way every process of the project does (through the settings' helper),
# says so, then waits until its standard input closes or a signal arrives.
CLIENT = """
import sys
from pathlib import Path

import psycopg

from sectstudy.db import configured_pgdata, embedded_database_config

# SETUP

config = embedded_database_config(configured_pgdata(Path.cwd()))
with psycopg.connect(
    dbname=config["NAME"], user=config["USER"], host=config["HOST"], port=config["PORT"]
) as connection:
    connection.execute("SELECT 1")
print("connected", flush=True)
sys.stdin.read()
"""


# Runs Python with the arguments that follow, SIGINT's default action restored first: a
# process started from a terminal has it, even when this test run was started with SIGINT
# ignored (as a background job of a non-interactive shell is), and Python then ignores Ctrl-C.
WITH_DEFAULT_SIGINT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def wait_until(condition: Callable[[], object], what: str, timeout: float = DEADLINE):
    """Polls condition until it returns something true; fails naming what did not happen."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout} s waiting for {what}", pytrace=False)
        time.sleep(0.02)
    return result


def postmasters(pgdata: Path) -> list[psutil.Process]:
    """The PostgreSQL servers (postmasters, not zombies) running on pgdata."""
    real = str(Path(pgdata).resolve())
    found = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if (
            process.info["name"] == "postgres"
            and process.info["status"] != psutil.STATUS_ZOMBIE
            and real in cmdline
        ):
            found.append(process)
    return found


def watchdogs(pgdata: Path) -> list[psutil.Process]:
    """The watchdog processes of a data directory (see sectstudy.db.watch)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if str(pgdata) in cmdline and any("db.watch()" in arg for arg in cmdline):
            found.append(process)
    return found


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Started:
    """A process the lab started, in its own session, with its output in files."""

    process: subprocess.Popen
    output: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        return self.output.with_suffix(".out").read_text()

    @property
    def stderr(self) -> str:
        return self.output.with_suffix(".err").read_text()

    def wait(self, timeout: float = DEADLINE) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"pid {self.pid} still running after {timeout} s:\n{self.stderr}")

    def finish(self) -> None:
        """Closes the client's standard input, the ordinary way for it to end."""
        self.process.stdin.close()
        assert self.wait() == 0, self.stderr

    def kill(self) -> None:
        self.process.kill()
        self.wait()

    def end(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(DEADLINE)
        if self.process.stdin:
            self.process.stdin.close()


@dataclass
class Lab:
    base: Path
    template: Path | None = None
    started: list[Started] = field(default_factory=list)
    data_dirs: list[Path] = field(default_factory=list)

    def env(self, pgdata: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PYTHONWARNINGS"}}
        env.update(SECTSTUDY_PGDATA=str(pgdata), DJANGO_SETTINGS_MODULE="sectstudy.settings")
        return env

    def pgdata(self, name: str = "clone") -> Path:
        """A project-like var/pgdata holding an initialised, stopped cluster."""
        pgdata = self.base / name / "var" / "pgdata"
        pgdata.parent.mkdir(parents=True)
        if self.template is not None:  # cp -a keeps the server account's ownership
            subprocess.run(["cp", "-a", str(self.template), str(pgdata)], check=True)  # noqa: S603, S607
        self.data_dirs.append(pgdata)
        return pgdata

    def spawn(self, args: list[str], pgdata: Path, **options) -> Started:
        output = self.base / f"process-{len(self.started)}"
        with (
            output.with_suffix(".out").open("w") as out,
            output.with_suffix(".err").open("w") as err,
        ):
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
                [sys.executable, "-c", WITH_DEFAULT_SIGINT, *args],
                cwd=settings.BASE_DIR,
                env=self.env(pgdata),
                stdout=out,
                stderr=err,
                start_new_session=True,
                **options,
            )
        started = Started(process, output)
        self.started.append(started)
        if pgdata not in self.data_dirs:
            self.data_dirs.append(pgdata)
        return started

    def client(self, pgdata: Path, setup: str = "") -> Started:
        """A process using the embedded server, connected when this returns; setup is
        Python code it runs first."""
        code = CLIENT.replace("# SETUP\n", setup)
        client = self.spawn(["-c", code], pgdata, stdin=subprocess.PIPE)

        def connected():
            if client.process.poll() is not None:
                pytest.fail(f"The client exited with {client.process.returncode}:\n{client.stderr}")
            return client.stdout == "connected\n"

        wait_until(connected, "a client to connect")
        return client

    def runserver(self, pgdata: Path, port: int, *, wait: bool = True) -> Started:
        """`manage.py runserver` as `make run` starts it (with the autoreloader)."""
        server = self.spawn(
            ["manage.py", "runserver", f"127.0.0.1:{port}"], pgdata, stdin=subprocess.DEVNULL
        )
        if wait:

            def serving():
                if server.process.poll() is not None:
                    pytest.fail(
                        f"runserver exited with {server.process.returncode}:\n{server.stderr}"
                    )
                return port_answers(port)

            wait_until(serving, f"runserver to answer on port {port}")
        return server

    def orphan_server(self, pgdata: Path) -> psutil.Process:
        """A server nobody uses and nobody watches: its client and watchdog killed."""
        client = self.client(pgdata)
        for watchdog in wait_until(lambda: watchdogs(pgdata), "a watchdog"):
            watchdog.kill()
            watchdog.wait(DEADLINE)
        client.kill()
        [server] = postmasters(pgdata)
        return server

    def assert_no_server(self, pgdata: Path) -> None:
        wait_until(lambda: not postmasters(pgdata), f"the PostgreSQL on {pgdata} to stop")

    def clean_up(self) -> None:
        for started in self.started:
            started.end()
        for pgdata in self.data_dirs:
            for process in watchdogs(pgdata) + postmasters(pgdata):
                process.kill()
            if pgdata.is_symlink():
                relocated = pgdata.resolve().parent
                if relocated.is_relative_to(RELOCATION_ROOT):
                    shutil.rmtree(relocated, ignore_errors=True)


def throwaway_directory() -> Path:
    """A new directory the server's account can reach when the tests run as root (the
    temporary directory's own is 0700); its name has a space, as a user's path may."""
    base = Path(tempfile.mkdtemp(prefix="sectstudy lifecycle-"))
    base.chmod(0o755)
    return base


@pytest.fixture(scope="session")
def pgdata_template() -> Iterator[Path]:
    """One cluster per test session (per xdist worker), initialised through the project's own
    code and stopped; each test gets a copy, which spares it a 1-2 s initdb."""
    base = throwaway_directory()
    lab = Lab(base)
    try:
        pgdata = lab.pgdata("template")
        lab.client(pgdata).finish()
        lab.assert_no_server(pgdata)
        yield pgdata
    finally:
        lab.clean_up()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def lab(pgdata_template) -> Iterator[Lab]:
    base = throwaway_directory()
    lab = Lab(base, template=pgdata_template)
    try:
        yield lab
    finally:
        lab.clean_up()
        shutil.rmtree(base, ignore_errors=True)
