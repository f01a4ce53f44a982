"""The benchmark's harness, very short (scripts/bench.py --small, 1 s per request).

Marked bench, so `make bench` runs it before the full version: at a minute alone (three
under load) it would make `make test` far longer, and the 5-second load test there
already guards lost writes and 5xx. It checks that the harness works, not how fast the
app is: every request answered 2xx or 3xx, every acknowledged write stored exactly once,
the report written."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.bench
@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (make test installs it)"
)
def test_bench_harness_short_run_answers_and_loses_nothing(tmp_path):
    command = [
        sys.executable,
        str(ROOT / "scripts" / "bench.py"),
        *("--small", "--seconds", "1", "--warmup", "0", "--runs", "1", "--min-answers", "0"),
        *("--out", str(tmp_path)),
    ]
    run = subprocess.run(  # noqa: S603 - our own script
        command, cwd=ROOT, capture_output=True, text=True, timeout=400, check=False
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert report["problems"] == []
    assert (tmp_path / "latest.md").read_text().startswith("# sectstudy benchmark")
    for name, row in report["rows"].items():
        assert sum(row["statuses"].values()) > 0, name
        assert all(200 <= int(status) < 400 for status in row["statuses"]), (name, row)
    for name, check in report["writes"].items():
        assert check["acked"] > 0, name
        assert (check["lost"], check["duplicated"]) == (0, 0), (name, check)
