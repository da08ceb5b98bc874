#!/usr/bin/env bash
# README command 2: set up, then run every check: ruff, mypy, import-linter and the whole pytest
# suite (unit, property, end-to-end on SQLite and PostgreSQL). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The end-to-end suite needs PostgreSQL on 127.0.0.1:5432 (or ENVCLONE_TEST_PG_URL). Start the
# machine's own cluster if it is installed but down.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && command -v pg_ctlcluster >/dev/null 2>&1; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
fi

echo "== ruff"; .venv/bin/ruff check src tests bench
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
# Two test processes by default (pytest-xdist; modules are split between them, so no test may depend
# on another's order): the suite takes about half the time on a 2-core machine. ENVCLONE_TEST_WORKERS=0
# runs it in one process.
echo "== pytest"; .venv/bin/pytest -n "${ENVCLONE_TEST_WORKERS:-2}" --dist loadfile --durations=15 "$@"
