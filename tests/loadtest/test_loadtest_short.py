"""The load test, short: two gunicorn servers with production settings, five members,
five seconds. Catches a regression in lost or duplicated writes or a 5xx on every
`make test`; `make loadtest` runs the long version (see scripts/loadtest.py)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_short_load_test_loses_nothing_and_answers_no_5xx(tmp_path):
    results = tmp_path / "results.json"
    command = [
        sys.executable,
        str(ROOT / "scripts" / "loadtest.py"),
        *("--members", "5", "--seconds", "5", "--servers", "2", "--think", "0.2", "0.8"),
        *("--form-logins", "1", "--log-dir", str(tmp_path / "logs"), "--json", str(results)),
    ]
    run = subprocess.run(  # noqa: S603 - our own script
        command, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    summary = json.loads(results.read_text())
    assert summary["failures"] == []
    assert summary["lost"] == {}
    assert summary["duplicated"] == {}
    assert sum(summary["acked"].values()) > 0
