"""Production settings for the benchmark, with three harness hooks and nothing else
changed: static files are collected into the run's own directory (BENCH_STATIC_ROOT), the
database is the run's throw-away one (DATABASE_URL, as in production), and the URLs add
two reference pages to the app's (benchkit.urls)."""

import os
from pathlib import Path

from sectstudy.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
ROOT_URLCONF = "benchkit.urls"
