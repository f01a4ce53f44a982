"""The benchmark's report: one table, the issue's targets with PASS or MISS, the write
checks and the machine; as Markdown (stdout and var/bench/) and as JSON."""

import os
import platform
import statistics
from dataclasses import dataclass
from pathlib import Path

PAGES = (
    "home",
    "contents",
    "passage, 0 comments",
    "passage, 50 comments",
    "passage, 5,000 comments",
    "group page",
    "my questions",
    "poll, nothing new",
    "anonymous passage",
)
# Reference pages (benchkit.urls): what a logged-in page pays before its own work.
REFERENCES = ("Django alone", "empty page")
FLOOR_SHARE = {
    "passage, 50 comments": 0.25,
    "poll, nothing new": 0.60,
    "home": 0.40,
    "contents": 0.40,
    "group page": 0.40,
    "my questions": 0.40,
}
P99_LIMIT_MS = 250
BIG_OVER_FIFTY = 1.5
SAME_COST = 1.2  # "costs the same": within 20 %, on a noisy shared machine
POST_SHARE = 0.30
TRANSFER_LIMIT = 60 * 1024
RSS_LIMIT_MB = 150
RSS_GROWTH_MB = 5  # "not growing between runs", within this


def machine() -> dict:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    load = Path("/proc/loadavg").read_text().split()[:3]
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_before_report": " ".join(load),
    }


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


@dataclass
class Report:
    args: object
    stamp: str
    plan: dict
    names: list[str]
    labels: dict
    runs: list[dict]
    inprocess: dict
    checks: dict
    transfer: dict
    seed_seconds: float
    machine: dict

    # Figures -----------------------------------------------------------------

    def rows(self) -> dict[str, dict]:
        rows = {}
        for name in self.names:
            per_run = [run["results"][name] for run in self.runs]
            last = per_run[-1]
            rows[name] = {
                "rps": [r["rps"] for r in per_run],
                "ratio": [r["rps"] / r["floor"] for r in per_run if r["floor"]],
                "floor": [r["floor"] for r in per_run],
                "p50_ms": max(r["p50_us"] for r in per_run) / 1000,
                "p99_ms": max(r["p99_us"] for r in per_run) / 1000,
                "n": [r["requests"] for r in per_run],
                "bytes": last["body_bytes"] / last["responses"] if last["responses"] else 0,
                "statuses": _merge([r["statuses"] for r in per_run]),
                "errors": _merge([r["errors"] for r in per_run]),
                "drain_s": max(r["drain_s"] for r in per_run),
                "window_s": max(r.get("window_s", self.args.seconds) for r in per_run),
                "queries": self.inprocess.get(name, {}).get("queries"),
                "inprocess_ms": self.inprocess.get(name, {}).get("ms"),
            }
        return rows

    def targets(self, rows: dict) -> list[tuple[str, str, str, bool | None]]:
        """(what, target, measured, ok)."""
        found = []

        def mean(name, key):
            return statistics.mean(rows[name][key]) if name in rows and rows[name][key] else None

        for name, share in FLOOR_SHARE.items():
            ratio = mean(name, "ratio")
            if ratio is not None:
                found.append((name, f">= {share:.0%} of the floor", f"{ratio:.1%}", ratio >= share))
        fifty, big = mean("passage, 50 comments", "rps"), mean("passage, 5,000 comments", "rps")
        if fifty and big == 0:
            found.append(
                (
                    "passage, 5,000 comments",
                    f"costs <= {BIG_OVER_FIFTY}x the 50-comment page",
                    "no answer inside the window",
                    False,
                )
            )
        if fifty and big:
            cost = fifty / big
            found.append(
                (
                    "passage, 5,000 comments",
                    f"costs <= {BIG_OVER_FIFTY}x the 50-comment page",
                    f"{cost:.2f}x",
                    cost <= BIG_OVER_FIFTY,
                )
            )
        one, many = mean("helpful-1", "rps"), mean("helpful", "rps")
        if one and many:
            cost = one / many
            same_queries = rows["helpful"]["queries"] == rows["helpful-1"]["queries"]
            found.append(
                (
                    "helpful at 5,000 vs at 1 comment",
                    f"same cost (<= {SAME_COST}x, same queries)",
                    f"{cost:.2f}x, queries {rows['helpful']['queries']} vs {rows['helpful-1']['queries']}",
                    cost <= SAME_COST and same_queries,
                )
            )
        post = mean("post", "rps")
        if post and fifty:
            check = self.checks.get("post")
            lost = check.lost if check else 0
            found.append(
                (
                    "post a comment",
                    f">= {POST_SHARE:.0%} of the 50-comment page's req/s, zero lost",
                    f"{post / fifty:.0%}, {lost} lost",
                    post / fifty >= POST_SHARE and lost == 0,
                )
            )
        for name in PAGES:
            if name in rows:
                p99 = rows[name]["p99_ms"]
                if not sum(rows[name]["n"]):
                    found.append(
                        (name, f"p99 < {P99_LIMIT_MS} ms", "no answer inside the window", False)
                    )
                    continue
                found.append(
                    (name, f"p99 < {P99_LIMIT_MS} ms", f"{p99:.0f} ms", p99 < P99_LIMIT_MS)
                )
        total = self.transfer["total"]
        found.append(
            (
                "first visit to a passage page",
                "<= 60 KB in all, nothing from another host",
                f"{total / 1024:.0f} KB, {len(self.transfer['foreign'])} from other hosts",
                total <= TRANSFER_LIMIT and not self.transfer["foreign"],
            )
        )
        rss = [run["rss_kib"] for run in self.runs]
        biggest = max(max(r) for r in rss) / 1024 if all(rss) else 0
        growth = (sum(rss[-1]) - sum(rss[0])) / 1024 / max(len(rss[0]), 1) if all(rss) else 0
        found.append(
            (
                "worker resident memory",
                f"each < {RSS_LIMIT_MB} MB, growth <= {RSS_GROWTH_MB} MB between runs",
                f"max {biggest:.0f} MB, {growth:+.1f} MB per worker",
                biggest < RSS_LIMIT_MB and growth <= RSS_GROWTH_MB if all(rss) else None,
            )
        )
        for name, check in self.checks.items():
            found.append(
                (
                    f"{name}: acknowledged writes",
                    "stored exactly once",
                    f"{check.found_once}/{check.acked} found once, {check.lost} lost, "
                    f"{check.duplicated} duplicated",
                    check.ok,
                )
            )
        return found

    def ceilings(self, rows: dict) -> list[str]:
        """What the reference pages allow: no logged-in page can beat the empty page, so
        each page's share of it says how much of the cost is the page's own."""
        references = {
            name: statistics.mean(rows[name]["ratio"])
            for name in REFERENCES
            if name in rows and rows[name]["ratio"]
        }
        if not references:
            return []
        empty = statistics.mean(rows["empty page"]["rps"]) if "empty page" in references else 0
        lines = [
            "",
            "## What the stack allows",
            "",
            "Reference pages served only by the benchmark (scripts/benchkit/urls.py): "
            + "; ".join(f"{name}: {share:.1%} of the floor" for name, share in references.items())
            + ". No logged-in page can do better than the empty page (session, user, the site's"
            " header with its unread count).",
        ]
        if empty:
            lines += [
                "",
                "| page | share of the floor | share of the empty page |",
                "|---|---|---|",
            ]
            for name in FLOOR_SHARE:
                if name in rows and rows[name]["ratio"]:
                    lines.append(
                        f"| {name} | {statistics.mean(rows[name]['ratio']):.1%}"
                        f" | {statistics.mean(rows[name]['rps']) / empty:.0%} |"
                    )
        return lines

    def harness_problems(self) -> list[str]:
        problems = []
        for name, row in self.rows().items():
            bad = {s: n for s, n in row["statuses"].items() if not 200 <= int(s) < 400}
            if bad:
                problems.append(f"{name}: statuses outside 2xx/3xx: {bad}")
            if not sum(row["statuses"].values()):
                problems.append(f"{name}: no response at all")
        for run in self.runs:
            if not run["rss_kib"]:
                problems.append("no gunicorn worker found in /proc")
        for name, check in self.checks.items():
            if not check.ok:
                problems.append(f"{name}: {check.lost} lost, {check.duplicated} duplicated")
            if check.acked == 0 and name in self.names:
                problems.append(f"{name}: no write acknowledged")
        for name, figures in self.inprocess.items():
            bad = [s for s in figures["statuses"] if not 200 <= s < 400]
            if bad:
                problems.append(f"in-process {name}: statuses {bad}")
        return problems

    # Output ------------------------------------------------------------------

    def markdown(self) -> str:
        rows = self.rows()
        m = self.machine
        size = "small (smoke)" if self.args.small else "full"
        lines = [
            f"# sectstudy benchmark, {self.stamp} UTC",
            "",
            f"Machine: {m['nproc']} cores, {m['cpu']}, {m['ram_gb']} GB RAM; Python {m['python']};"
            f" load average at the end {m['loadavg_before_report']} (a shared machine: noisy).",
            f"Data set ({size}, seeded in {self.seed_seconds:.0f} s): "
            + ", ".join(f"{v:,} {k}" for k, v in self.plan["counts"].items())
            + ".",
            f"gunicorn {self.args.workers} sync workers, production settings; wrk, "
            f"{self.args.connections} connections, {self.args.warmup:.0f} s warm-up + "
            f"{self.args.seconds:.0f} s per request, {len(self.runs)} runs; the floor (the "
            "50-comment page's HTML as a static file, same gunicorn and whitenoise) measured "
            "before and after each request.",
            "",
            "req/s and share of the floor: each run (mean of the two floors around it);"
            " p50/p99: the worse run; bytes: response body as sent (compressed if compressed);"
            " queries and in-process ms: Django test client, CaptureQueriesContext.",
            "",
            "| request (logged-in member) | req/s | share of the floor | p50 | p99 | n | bytes"
            " | queries | in-process |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name in self.names:
            row = rows[name]
            rps = " / ".join(f"{r:.1f}" for r in row["rps"])
            ratio = " / ".join(f"{r:.1%}" for r in row["ratio"])
            longer = (
                f" ({row['window_s']:.0f} s window)" if row["window_s"] > self.args.seconds else ""
            )
            lines.append(
                f"| {self.labels.get(name, name)}{longer} | {rps} | {ratio} | {row['p50_ms']:.0f} ms"
                f" | {row['p99_ms']:.0f} ms | {sum(row['n'])} | {_kb(row['bytes'])}"
                f" | {row['queries']} | {row['inprocess_ms']} ms |"
            )
        floors = [f for run in self.runs for f in run["floors"]]
        lines += [
            "",
            f"Floor: {min(floors):.0f}–{max(floors):.0f} req/s"
            f" (median {statistics.median(floors):.0f}) over {len(floors)} measurements.",
            "",
            "## Targets (issue 13)",
            "",
            "| what | target | measured | |",
            "|---|---|---|---|",
        ]
        lines += [f"| {w} | {t} | {v} | {verdict(ok)} |" for w, t, v, ok in self.targets(rows)]
        lines += self.ceilings(rows)
        lines += ["", "## Worker memory (RSS from /proc)", ""]
        for number, run in enumerate(self.runs, 1):
            sizes = ", ".join(f"{r / 1024:.1f} MB" for r in run["rss_kib"])
            lines.append(f"- after run {number}: {sizes}")
        lines += ["", "## First visit to the 50-comment passage page", ""]
        for item in self.transfer["items"]:
            lines.append(
                f"- {item['url']}: {item['status']}, {_kb(item['bytes'])}"
                f" {item['encoding'] or 'uncompressed'}"
            )
        lines += ["", "## Writes", ""]
        for name, check in self.checks.items():
            statuses = ", ".join(f"{k}: {v}" for k, v in sorted(check.statuses.items()))
            lines.append(
                f"- {self.labels.get(name, name)}: {check.sent} sent ({statuses}),"
                f" {check.acked} acknowledged, {check.found_once} found once,"
                f" {check.lost} lost, {check.duplicated} duplicated"
            )
            lines += [f"  - {d}" for d in check.details[:5]]
        slow_drains = {n: r["drain_s"] for n, r in rows.items() if r["drain_s"] > 1}
        if slow_drains:
            lines += [
                "",
                "Abandoned requests drained after a run (wrk stops mid-queue; the workers finish"
                " them before the next measurement): "
                + ", ".join(f"{n} {s:.0f} s" for n, s in slow_drains.items()),
            ]
        problems = self.harness_problems()
        if problems:
            lines += ["", "## Harness problems", ""] + [f"- {p}" for p in problems]
        return "\n".join(lines) + "\n"

    def data(self) -> dict:
        return {
            "stamp": self.stamp,
            "machine": self.machine,
            "counts": self.plan["counts"],
            "seed_seconds": self.seed_seconds,
            "rows": self.rows(),
            "targets": [
                {"what": w, "target": t, "measured": v, "verdict": verdict(ok)}
                for w, t, v, ok in self.targets(self.rows())
            ],
            "writes": {name: check.as_dict() for name, check in self.checks.items()},
            "transfer": self.transfer,
            "rss_kib": [run["rss_kib"] for run in self.runs],
            "floors": [run["floors"] for run in self.runs],
            "problems": self.harness_problems(),
        }


def _merge(dicts: list[dict]) -> dict:
    merged: dict = {}
    for d in dicts:
        for key, value in d.items():
            merged[key] = merged.get(key, 0) + value
    return merged


def _kb(value: float) -> str:
    return f"{value / 1024:.1f} KB" if value >= 1024 else f"{value:.0f} B"
