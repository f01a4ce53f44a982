"""Production settings for the benchmark, with two harness hooks and nothing else changed:
static files are collected into the run's own directory (BENCH_STATIC_ROOT), and the
database is the run's throw-away one (DATABASE_URL, as in production)."""

import os
from pathlib import Path

from sectstudy.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
