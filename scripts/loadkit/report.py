"""The numbers and the verdict of one load test run."""

from collections import Counter
from dataclasses import dataclass, field

from loadkit.members import WRITE_KINDS, Exchange
from loadkit.verify import Check, Counts


@dataclass
class FaultEvents:
    """Monotonic times of the db-restart fault; None when it did not happen."""

    stop_begin: float | None = None
    stop_done: float | None = None
    start_begin: float | None = None
    ready: float | None = None
    error: str = ""


@dataclass
class Verdict:
    failures: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def _status(exchange: Exchange) -> str:
    return str(exchange.status) if exchange.status is not None else exchange.error or "error"


def _statuses(exchanges) -> str:
    counts = Counter(_status(e) for e in exchanges)
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "none"


def build(
    *,
    config: dict,
    start: float,
    exchanges: list[Exchange],
    counts: Counts,
    checks: list[Check],
    fault: FaultEvents | None,
    recovery_grace: float,
    notes: list[str],
    problems: list[str],
) -> Verdict:
    verdict = Verdict(failures=list(problems))
    out = verdict.lines
    run = [e for e in exchanges if e.phase == "run"]
    answered = [e for e in run if e.status is not None]

    def ms(value):
        return f"{value * 1000:.0f} ms" if value == value else "-"

    out.append(
        f"sectstudy load test: {config['members']} members, {config['seconds']} s, "
        f"{config['servers']} servers x {config['workers']} workers, fault {config['fault']}"
    )
    duration = max((e.t1 for e in run), default=start) - start
    out.append("")
    out.append(
        f"requests {len(run)} in {duration:.1f} s ({len(run) / duration if duration else 0:.1f}/s);"
        f" p50 {ms(percentile([e.t1 - e.t0 for e in answered], 50))},"
        f" p99 {ms(percentile([e.t1 - e.t0 for e in answered], 99))}"
    )
    out.append(f"statuses: {_statuses(run)}")
    setup = [e for e in exchanges if e.phase == "setup"]
    out.append(f"set-up requests (logins, first page): {_statuses(setup)}")
    out.append("")
    out.append(f"{'request':<10}{'count':>7}{'p50':>9}{'p99':>10}  statuses")
    for kind in ("read", "poll", *WRITE_KINDS):
        these = [e for e in run if e.kind == kind]
        if not these:
            continue
        times = [e.t1 - e.t0 for e in these if e.status is not None]
        out.append(
            f"{kind:<10}{len(these):>7}{ms(percentile(times, 50)):>9}{ms(percentile(times, 99)):>10}"
            f"  {_statuses(these)}"
        )
    out.append("")
    out.append(
        f"{'write':<10}{'attempted':>10}{'acked':>7}{'found 1x':>9}{'lost':>6}{'dup':>5}"
        f"{'gave up':>9}{'refused':>9}  (unacked but stored)"
    )
    for kind in WRITE_KINDS:
        if not counts.attempted[kind]:
            continue
        found = str(counts.found_once[kind]) if kind in ("comment", "reply", "answer") else "-"
        out.append(
            f"{kind:<10}{counts.attempted[kind]:>10}{counts.acked[kind]:>7}{found:>9}"
            f"{counts.lost[kind]:>6}{counts.duplicated[kind]:>5}"
            f"{counts.outcomes[(kind, 'gave_up')]:>9}{counts.outcomes[(kind, 'rejected')]:>9}"
            f"  ({counts.unacked_stored[kind]})"
        )
    throttled = [e for e in run if e.status == 429]
    out.append(f"429 (throttled, backed off and retried): {len(throttled)}")
    if not sum(counts.acked.values()):
        verdict.failures.append("no write was acknowledged: nothing was tested")
    for kind in WRITE_KINDS:
        for outcome, why in (
            ("rejected", "refused with a 4xx"),
            ("login", "sent to the login page"),
        ):
            if counts.outcomes[(kind, outcome)]:
                verdict.failures.append(f"{counts.outcomes[(kind, outcome)]} {kind} writes {why}")

    # 5xx and missing answers, inside and outside the fault window.
    window = None
    if fault is not None and fault.stop_begin is not None:
        end = (fault.ready or max(e.t1 for e in exchanges)) + recovery_grace
        window = (fault.stop_begin, end)
        out.append("")
        outage = (fault.ready or end) - fault.stop_begin
        out.append(
            f"fault db-restart: PostgreSQL stopped at {fault.stop_begin - start:.1f} s, "
            f"started again at {fault.start_begin - start if fault.start_begin else float('nan'):.1f} s, "
            f"ready at {fault.ready - start if fault.ready else float('nan'):.1f} s "
            f"(outage {outage:.1f} s)"
        )
        if fault.error:
            verdict.failures.append(f"the fault could not be run: {fault.error}")
    inside = [e for e in exchanges if window and e.t1 >= window[0] and e.t0 <= window[1]]
    outside = [e for e in exchanges if not (window and e.t1 >= window[0] and e.t0 <= window[1])]
    bad_outside = [e for e in outside if e.status is None or e.status >= 500]
    if bad_outside:
        verdict.failures.append(
            f"{len(bad_outside)} 5xx or unanswered requests outside any fault: {_statuses(bad_outside)}"
        )
    if window:
        failing = [e for e in inside if e.status is None or e.status >= 500]
        out.append(f"  statuses during the outage window: {_statuses(inside)}")
        not_503 = [e for e in failing if e.status != 503]
        if not_503:
            verdict.failures.append(
                f"{len(not_503)} answers other than 503 during the outage: {_statuses(not_503)}"
            )
        if not [e for e in inside if e.status == 503]:
            notes.append("no 503 seen during the outage")
        if fault.ready:
            after = sorted(
                (e for e in exchanges if e.t0 >= fault.ready and e.status and e.status < 400),
                key=lambda e: e.t1,
            )
            last_503 = max((e.t1 for e in inside if e.status == 503), default=None)
            recovered = after[0].t1 - fault.ready if after else float("nan")
            out.append(
                f"  recovery: first success {recovered:.2f} s after PostgreSQL was ready; "
                + (
                    f"last 503 {last_503 - fault.ready:+.2f} s from ready"
                    if last_503
                    else "no 503 at all"
                )
            )
            verdict.data["recovery_seconds"] = recovered
    out.append("")
    out.append("checks:")
    for check in checks:
        out.append(f"  [{check.status:>7}] {check.name}: {check.summary}")
        for detail in check.details[:20]:
            out.append(f"            {detail}")
        if len(check.details) > 20:
            out.append(f"            ... and {len(check.details) - 20} more")
        if check.status == "FAIL":
            verdict.failures.append(f"check failed: {check.name}")
    if notes:
        out.append("")
        out.append("notes:")
        out.extend(f"  {note}" for note in notes)
    out.append("")
    if verdict.failures:
        out.append("RESULT: FAIL")
        out.extend(f"  - {failure}" for failure in verdict.failures)
    else:
        out.append("RESULT: PASS (no lost or duplicated write, no unexpected 5xx)")
    verdict.data.update(
        {
            "config": config,
            "requests": len(run),
            "statuses": Counter(_status(e) for e in run),
            "acked": dict(counts.acked),
            "lost": dict(counts.lost),
            "duplicated": dict(counts.duplicated),
            "failures": verdict.failures,
            "checks": {c.name: c.status for c in checks},
            "notes": notes,
        }
    )
    return verdict
