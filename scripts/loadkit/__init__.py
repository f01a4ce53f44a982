"""The pieces of `scripts/loadtest.py`: a throw-away PostgreSQL, an SMTP sink, the
app's processes, simulated members, the checks in the database and the report."""
