#!/usr/bin/env python3
"""The benchmark of issue 13: the app served as in production, driven by wrk.

    python scripts/bench.py                      # BENCH_SECONDS per request (default 4)
    python scripts/bench.py --seconds 1 --small  # the smoke version `make test` runs

A throw-away PostgreSQL (scripts/loadkit) is seeded with the issue's data set
(scripts/benchkit/seed.py: the essay, 20 groups, 500 members, 50,000 comments, one
passage with 5,000 in threads 30 deep, questions and answers, progress), static files are
collected into the run's own directory, and one gunicorn server with 2 sync workers and
production settings serves it on a loopback port. Each request is then driven by wrk at
32 connections (a warm-up, then --seconds), alternating with the static-file floor: the
exact HTML of the 50-comment page served by the same gunicorn and whitenoise, measured
before each request and after the last. Writes come from all connections at once; their
acknowledgements are checked against the database afterwards (stored exactly once). The
whole sequence runs twice (worker memory after each). Then the servers stop and an
in-process pass counts queries per request (Django's test client, CaptureQueriesContext);
--profile adds pyinstrument profiles and EXPLAIN ANALYZE of the slowest queries.

The report (a table on stdout, Markdown and JSON under var/bench/) compares each figure
with the issue's targets, PASS or MISS. A MISS does not fail the run: the numbers are
the report. It exits 1 only when the harness itself failed: a status outside 2xx/3xx, a
lost or duplicated write, no report.
"""

import argparse
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from benchkit.report import Report, machine
from benchkit.verify import verify_writes
from loadkit.postgres import free_port
from loadtest import Harness, SetupError, app_env, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
KIT = Path(__file__).resolve().parent / "benchkit"
FLOOR_PATH = "/static/bench/passage-50.html"
WRITE_LABELS = {
    "post": "post a comment",
    "reply": "reply in a 30-deep thread (5,000-comment passage)",
    "read": "mark read",
    "helpful": "helpful (5,000-comment passage)",
    "helpful-1": "helpful (1-comment passage)",
    "edit": "edit (5,000-comment passage)",
    "answer": "answer a question",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("BENCH_SECONDS") or 4)
    )
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--small", action="store_true", help="a small data set (smoke test)")
    parser.add_argument("--profile", action="store_true", help="pyinstrument and EXPLAIN too")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument(
        "--min-answers",
        type=int,
        default=8,
        help="fewer answers than this in the window: measured again over a longer one",
    )
    parser.add_argument("--only", help="request names separated by ; (for trying things)")
    return parser.parse_args(argv)


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SetupError("wrk is not installed: `make bench` installs it (apt-get install wrk)")
    return found


def worker_rss(master_pid: int) -> list[int]:
    """Resident memory (KiB) of each child of the gunicorn master, from /proc."""
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        ppid = re.search(r"^PPid:\s+(\d+)", text, re.M)
        rss = re.search(r"^VmRSS:\s+(\d+) kB", text, re.M)
        if ppid and rss and int(ppid.group(1)) == master_pid:
            sizes.append(int(rss.group(1)))
    return sorted(sizes)


def first_visit(port: int, session: str, path: str) -> dict:
    """What a first visit to the page transfers: the HTML as sent (compressed if the
    server compresses) and every stylesheet, script and image it links, as sent."""
    headers = {
        "Host": f"127.0.0.1:{port}",
        "X-Forwarded-Proto": "https",
        "Accept-Encoding": "gzip, deflate, br, zstd",
        "Cookie": f"sessionid={session}",
    }

    def get(url):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Encoding", ""), response.read()
        finally:
            connection.close()

    status, encoding, html = get(path)
    items = [{"url": path, "status": status, "bytes": len(html), "encoding": encoding}]
    text = html.decode("utf-8", errors="replace") if not encoding else ""
    if encoding:  # read the links from a plain copy
        plain = dict(headers)
        plain.pop("Accept-Encoding")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path, headers=plain)
        text = connection.getresponse().read().decode("utf-8", errors="replace")
        connection.close()
    links = re.findall(r'<(?:link|script|img)\b[^>]*?(?:href|src)="([^"]+)"', text)
    foreign = [u for u in links if re.match(r"^(https?:)?//", u)]
    for url in sorted(set(links) - set(foreign)):
        if not url.startswith("/static/"):
            continue
        status, encoding, body = get(url)
        items.append({"url": url, "status": status, "bytes": len(body), "encoding": encoding})
    return {"items": items, "total": sum(i["bytes"] for i in items), "foreign": foreign}


class Driver:
    """Runs wrk for one request kind and reads back what it measured."""

    def __init__(self, args, port: int, work: Path):
        self.args = args
        self.port = port
        self.work = work
        self.wrk = wrk_binary()
        self.sequence = 0
        self.offsets: dict[str, int] = {}

    def drain(self, limit: float = 180) -> float:
        """Wait until the server has finished what wrk left behind: when wrk stops, the
        requests still queued (up to one per connection) are abandoned by the client but
        still served by the sync workers. A probe queued behind them returns only after
        them; the server is idle once a probe comes back fast."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            sent = time.monotonic()
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=limit)
            try:
                connection.request("GET", FLOOR_PATH, headers={"X-Forwarded-Proto": "https"})
                connection.getresponse().read()
            finally:
                connection.close()
            if time.monotonic() - sent < 0.05:
                break
        return time.monotonic() - started

    def targets_file(self, name: str, lines: list[str]) -> Path:
        path = self.work / f"targets-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(
        self, name: str, targets: Path, seconds: float, run: int, kind: str, warmup: float = 0
    ) -> dict:
        """One wrk run; writes continue past the targets earlier runs of `name` used."""
        self.sequence += 1
        count = len(targets.read_text().splitlines())
        out = self.work / f"wrk-{self.sequence:03d}.json"
        start = time.monotonic() + 0.3 + warmup  # wrk takes a moment to connect
        env = {
            "BENCH_START": f"{start:.6f}",
            "BENCH_END": f"{start + seconds:.6f}",
            **os.environ,
            "BENCH_TARGETS": str(targets),
            "BENCH_OUT": str(out),
            "BENCH_THREADS": str(self.args.connections),
            "BENCH_RUN": f"r{run}s{self.sequence}",
            "BENCH_KIND": kind,
            "BENCH_OFFSET": str(self.offsets.get(name, 0)),
            "BENCH_NONCE": f"{self.sequence % 4096:03x}-{secrets.randbits(48):012x}",
        }
        command = [
            self.wrk,
            *("-t", str(self.args.connections), "-c", str(self.args.connections)),
            *("-d", f"{math.ceil(0.5 + warmup + seconds)}s", "--timeout", "60s"),
            *("-s", str(KIT / "bench.lua"), f"http://127.0.0.1:{self.port}"),
        ]
        result = subprocess.run(  # noqa: S603 - wrk, our script
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=seconds + 90,
            check=False,
        )
        if result.returncode != 0 or not out.exists():
            raise SetupError(f"wrk failed for {name}: {result.stderr[-2000:]}")
        figures = json.loads(out.read_text())
        figures["drain_s"] = self.drain()
        sent, answered, latencies = {}, {}, []
        for line in Path(f"{out}.writes").read_text().splitlines():
            fields = line.split()
            if fields[0] == "S":
                sent[fields[1]] = int(fields[2])
            elif fields[0] == "A":
                answered[fields[1]] = fields[3]
            else:
                latencies.append(float(fields[1]))
        # wrk's own figures count the warm-up too: requests/s and latency are of the window.
        latencies.sort()
        figures["requests"] = len(latencies)
        figures["rps"] = len(latencies) / seconds
        for label, share in (("p50_us", 0.50), ("p90_us", 0.90), ("p99_us", 0.99)):
            figures[label] = (
                latencies[min(len(latencies) - 1, int(share * len(latencies)))] * 1000
                if latencies
                else 0
            )
        # (token, target index, status; "none" when wrk stopped before the answer came)
        figures["writes"] = [
            (token, raw % count, answered.get(token, "none")) for token, raw in sent.items()
        ]
        if sent:
            self.offsets[name] = max(sent.values()) + 1
        return figures


def target_lines(plan: dict, name: str) -> list[str]:
    if name in plan["reads"]:
        session = "-" if name in plan["anonymous_reads"] else None
        htmx = "1" if name in plan["htmx_reads"] else "0"
        sessions = [session] if session else plan["readers"]
        return [f"GET\t{plan['reads'][name]}\t{s}\t-\t{htmx}" for s in sessions]
    return [f"POST\t{t['path']}\t{t['session']}\t{t['form']}\t1" for t in plan["writes"][name]]


def run(args, harness: Harness, stamp: str) -> int:
    clock = time.monotonic()

    def step(message):
        print(f"[{time.monotonic() - clock:6.1f} s] {message}", flush=True)

    work = harness.tmp / "work"
    work.mkdir()
    static_root = harness.tmp / "static"
    step(f"PostgreSQL: initdb in {harness.tmp}")
    harness.pg.init()
    harness.pg.start()
    harness.pg.create_database()
    harness.sink.start()
    port = free_port()
    env = app_env(harness.pg, harness.sink, port)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "benchkit.settings",
            "BENCH_STATIC_ROOT": str(static_root),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "scripts"), str(ROOT)]),
        }
    )
    python = sys.executable
    step("migrate and collectstatic (into the run's own directory)")
    harness.migrate_and_collect_static(env)
    step("seeding the data set" + (" (small)" if args.small else ""))
    plan_path = work / "plan.json"
    floor_file = static_root / FLOOR_PATH.removeprefix("/static/")
    seed_started = time.monotonic()
    output = harness.run(
        "seed",
        [python, str(KIT / "django_side.py"), "seed", str(plan_path), str(floor_file)]
        + (["--small"] if args.small else []),
        env,
        timeout=600,
    )
    seed_seconds = time.monotonic() - seed_started
    print(output.strip(), flush=True)
    plan = json.loads(plan_path.read_text())

    step(f"gunicorn, {args.workers} sync workers, production settings, on 127.0.0.1:{port}")
    server = harness.spawn(
        "server",
        [
            python,
            *("-m", "gunicorn", "sectstudy.wsgi"),
            *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
            *("--timeout", "60", "--graceful-timeout", "5"),
        ],
        env,
    )
    wait_until_serving([port], harness)
    transfer = first_visit(port, plan["reader"]["session"], plan["reads"]["passage, 50 comments"])

    driver = Driver(args, port, work)
    floor_targets = driver.targets_file("floor", [f"GET\t{FLOOR_PATH}\t-\t-\t0"])
    names = [*plan["reads"], *plan["writes"]]
    if args.only:
        wanted = {n.strip() for n in args.only.split(";")}
        names = [n for n in names if n in wanted]
    files = {name: driver.targets_file(name, target_lines(plan, name)) for name in names}
    kinds = {name: re.sub(r"[^a-z0-9]", "", name.lower())[:8] or "k" for name in names}
    runs: list[dict] = []
    all_writes: dict[str, list] = {name: [] for name in plan["writes"]}
    for number in range(1, args.runs + 1):
        step(
            f"run {number} of {args.runs}: {len(names)} requests x ({args.warmup:.0f} s warm-up"
            f" + {args.seconds:.0f} s), each after the floor"
        )
        results: dict[str, dict] = {}
        floors: list[dict] = []
        if args.warmup > 0:
            driver.run("floor warm-up", floor_targets, args.warmup, number, "floor")
        for name in names:
            floors.append(driver.run("floor", floor_targets, args.seconds, number, "floor"))
            measured = driver.run(
                name, files[name], args.seconds, number, kinds[name], warmup=args.warmup
            )
            earlier_writes = measured["writes"]
            if measured["requests"] < args.min_answers:
                # Too slow for the window (the 5,000-comment page): measure again, longer,
                # after a warm-up long enough for the first answers to come back.
                longer = max(args.seconds * 4, 20)
                step(
                    f"    {name}: {measured['requests']} answers in the window; again over {longer:.0f} s"
                )
                measured = driver.run(
                    name, files[name], longer, number, kinds[name], warmup=max(args.warmup, 5)
                )
                measured["window_s"] = longer
                earlier_writes = earlier_writes + measured["writes"]
            measured["floor_before"] = floors[-1]["rps"]
            results[name] = measured
            if name in all_writes:
                all_writes[name] += earlier_writes
            if name in plan["reads"] or name in all_writes:
                statuses = ", ".join(f"{k}: {v}" for k, v in sorted(measured["statuses"].items()))
                print(
                    f"    {name:<32} {measured['rps']:8.1f} req/s  p50 {measured['p50_us'] / 1000:7.1f} ms"
                    f"  p99 {measured['p99_us'] / 1000:7.1f} ms  floor {floors[-1]['rps']:7.1f}  [{statuses}]",
                    flush=True,
                )
        floors.append(driver.run("floor", floor_targets, args.seconds, number, "floor"))
        for index, name in enumerate(names):
            after = floors[index + 1]["rps"]
            results[name]["floor_after"] = after
            results[name]["floor"] = (results[name]["floor_before"] + after) / 2
        rss = worker_rss(server.pid)
        runs.append({"results": results, "floors": [f["rps"] for f in floors], "rss_kib": rss})
        step(f"run {number}: worker RSS {', '.join(f'{r / 1024:.0f} MB' for r in rss)}")

    step("checking the writes in the database")
    with harness.pg.connect() as connection:
        checks = verify_writes(connection, plan, all_writes)
    harness.stop_processes(["server"])
    step("in-process pass: queries per request" + (", profiles" if args.profile else ""))
    inprocess_path = work / "inprocess.json"
    profile_dir = args.out / f"profile-{stamp}"
    harness.run(
        "inprocess",
        [python, str(KIT / "django_side.py"), "inprocess", str(plan_path), str(inprocess_path)]
        + (["--profile", str(profile_dir)] if args.profile else []),
        env,
        timeout=900,
    )
    inprocess = json.loads(inprocess_path.read_text())

    report = Report(
        args=args,
        stamp=stamp,
        plan=plan,
        names=names,
        labels={**{n: n for n in plan["reads"]}, **WRITE_LABELS},
        runs=runs,
        inprocess=inprocess,
        checks=checks,
        transfer=transfer,
        seed_seconds=seed_seconds,
        machine=machine(),
    )
    text = report.markdown()
    print("\n" + text, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench-{stamp}.md").write_text(text)
    (args.out / "latest.md").write_text(text)
    (args.out / f"bench-{stamp}.json").write_text(json.dumps(report.data(), indent=2))
    (args.out / "latest.json").write_text(json.dumps(report.data(), indent=2))
    print(f"report: {args.out / f'bench-{stamp}.md'}")
    if args.profile:
        print(f"profiles: {profile_dir}")
    problems = report.harness_problems()
    for problem in problems:
        print(f"HARNESS PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


def stop_on_signal(signum, frame):
    print(f"bench: signal {signum}; stopping everything", file=sys.stderr, flush=True)
    sys.exit(128 + signum)


def main(argv=None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM stop the run and everything it started (also in the background,
    # where a shell leaves SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, stop_on_signal)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    harness = Harness(args.out / "logs" / stamp)
    try:
        return run(args, harness, stamp)
    except SetupError as error:
        print(f"bench: set-up failed: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        harness.cleanup()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(2)
