#!/usr/bin/env bash
# README command 1: set up, then run one environment on the embedded default (SQLite + local blobs)
# with demo content. Extra arguments go to `envclone serve` (e.g. --port 9090).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export ENVCLONE_ADMIN_PASSWORD=${ENVCLONE_ADMIN_PASSWORD:-}
exec .venv/bin/envclone serve --data-dir "${ENVCLONE_DATA_DIR:-./envclone-data}" --demo "$@"
