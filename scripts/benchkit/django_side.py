"""The benchmark's in-process side, run with the benchmark's environment (production
settings, its own database):

    python scripts/benchkit/django_side.py seed PLAN.json FLOOR.html [--small]
    python scripts/benchkit/django_side.py inprocess PLAN.json OUT.json [--profile DIR]

`seed` migrates nothing (the caller has), seeds the data set (benchkit.seed), writes the
plan for the load generator and the floor: the exact HTML of the 50-comment page, which
gunicorn then serves as a static file. `inprocess` requests every measured URL through
Django's test client and records queries and time per request (CaptureQueriesContext);
with --profile it also profiles the passage pages and a single-comment action with
pyinstrument and runs EXPLAIN ANALYZE on their slowest queries.
"""

import functools
import json
import statistics
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[2]
RUNS = 5


@functools.cache
def _client():
    from django.test import Client

    return Client(SERVER_NAME="127.0.0.1", headers={"accept-encoding": "gzip, deflate, br"})


def client_for(session: str | None):
    """One test client for every request, its session cookie set for each: a new client
    builds the middleware chain again (whitenoise scans every static file), which
    gunicorn's workers do once."""
    from django.conf import settings

    client = _client()
    client.cookies.clear()
    if session:
        client.cookies[settings.SESSION_COOKIE_NAME] = session
    return client


def seed_command(plan_path: Path, floor_path: Path, small: bool) -> None:
    from benchkit.seed import Size, seed

    started = time.perf_counter()
    plan = seed(Size.small() if small else Size())
    from django.db import connection

    with connection.cursor() as cursor:
        # As a database in service has: statistics for the planner, a visibility map.
        cursor.execute("VACUUM ANALYZE")
    plan["seed_seconds"] = round(time.perf_counter() - started, 1)
    response = client_for(plan["reader"]["session"]).get(plan["floor_source"], secure=True)
    if response.status_code != 200:
        raise SystemExit(f"the 50-comment page answered {response.status_code}")
    floor_path.parent.mkdir(parents=True, exist_ok=True)
    floor_path.write_bytes(response.content)
    plan_path.write_text(json.dumps(plan))
    print(f"seeded in {plan['seed_seconds']} s: {plan['counts']}")


def measure(client, method: str, path: str, data: str | None, htmx: bool):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        if method == "GET":
            response = client.get(path, headers=headers, secure=True)
        else:
            response = client.generic(
                "POST",
                path,
                data or "",
                content_type="application/x-www-form-urlencoded",
                headers=headers,
                secure=True,
            )
        elapsed = time.perf_counter() - started
    return response, elapsed, list(queries.captured_queries)


def fill(form: str, token: str) -> str:
    import uuid

    return form.replace("{TOKEN}", token).replace("{UUID}", str(uuid.uuid4()))


def requests_of(plan: dict):
    """(name, method, path, session, form or None, htmx) for every measured request, the
    writes on targets the load runs leave alone (the last of each list)."""
    for name, path in plan["reads"].items():
        session = None if name in plan["anonymous_reads"] else plan["reader"]["session"]
        yield name, "GET", path, session, None, name in plan["htmx_reads"]
    for name, targets in plan["writes"].items():
        yield name, "POST", None, None, targets, True


def inprocess_command(plan_path: Path, out_path: Path, profile_dir: Path | None) -> None:
    plan = json.loads(plan_path.read_text())
    results = {}
    for name, method, path, session, targets, htmx in requests_of(plan):
        timings, counts, statuses = [], [], []
        for run in range(RUNS):
            if targets is not None:
                target = targets[-1 - run]
                client = client_for(target["session"])
                response, elapsed, queries = measure(
                    client,
                    "POST",
                    target["path"],
                    fill(target["form"], f"inproc-{name}-{run}"),
                    htmx,
                )
            else:
                response, elapsed, queries = measure(client_for(session), method, path, None, htmx)
            timings.append(elapsed)
            counts.append(len(queries))
            statuses.append(response.status_code)
        results[name] = {
            "queries": counts[-1],
            "queries_all": counts,
            "ms": round(statistics.median(timings[1:]) * 1000, 1),
            "statuses": statuses,
        }
    out_path.write_text(json.dumps(results, indent=2))
    if profile_dir is not None:
        profile(plan, profile_dir)


def profile(plan: dict, out: Path) -> None:
    """pyinstrument and EXPLAIN ANALYZE for the passage pages and a single-comment action."""
    from django.db import connection
    from pyinstrument import Profiler

    out.mkdir(parents=True, exist_ok=True)
    reader = plan["reader"]["session"]
    helpful = plan["writes"]["helpful"][-10]
    cases = [
        ("passage-50", "GET", plan["reads"]["passage, 50 comments"], reader, None, False),
        ("passage-5000", "GET", plan["reads"]["passage, 5,000 comments"], reader, None, False),
        ("helpful-5000", "POST", helpful["path"], helpful["session"], "on=1", True),
        ("poll", "GET", plan["reads"]["poll, nothing new"], reader, None, True),
        ("home", "GET", plan["reads"]["home"], reader, None, False),
    ]
    summary = []
    for name, method, path, session, data, htmx in cases:
        client = client_for(session)
        for _warm in range(2):
            measure(client, method, path, data, htmx)
        profiler = Profiler(interval=0.0005)
        runs = 5
        with profiler:
            for _run in range(runs):
                _response, _elapsed, queries = measure(client, method, path, data, htmx)
        (out / f"{name}.txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False)
        )
        (out / f"{name}.html").write_text(profiler.output_html())
        slowest = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]
        total_sql = sum(float(q["time"]) for q in queries)
        lines = [
            f"## {name}: {method} {path}",
            f"{len(queries)} queries, {total_sql * 1000:.1f} ms in SQL (client-side timing)",
        ]
        for query in slowest:
            sql = query["sql"]
            lines.append(f"\n### {float(query['time']) * 1000:.1f} ms\n{sql}\n")
            if sql.lstrip().upper().startswith(("SELECT", "WITH")):
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    lines += [row[0] for row in cursor.fetchall()]
        (out / f"{name}-explain.txt").write_text("\n".join(lines) + "\n")
        summary.append(lines[0] + "  " + lines[1])
    (out / "README.txt").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))


def main(argv: list[str]) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
    django.setup()
    command = argv[0]
    if command == "seed":
        seed_command(Path(argv[1]), Path(argv[2]), "--small" in argv)
    elif command == "inprocess":
        profile_dir = Path(argv[argv.index("--profile") + 1]) if "--profile" in argv else None
        inprocess_command(Path(argv[1]), Path(argv[2]), profile_dir)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv[1:])
