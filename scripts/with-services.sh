#!/usr/bin/env bash
# Runs a command (benchmarks, ad-hoc tools) against the test-port services, started if needed.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
bash scripts/bootstrap.sh
export ARCHIVE_DATA_DIR=${ARCHIVE_DATA_DIR:-$REPO/.data/bench}
export ARCHIVE_MONGO_PORT=${ARCHIVE_MONGO_PORT:-27417} ARCHIVE_MINIO_PORT=${ARCHIVE_MINIO_PORT:-9400} ARCHIVE_MINIO_CONSOLE_PORT=${ARCHIVE_MINIO_CONSOLE_PORT:-9401}
bash scripts/services.sh up
set -a; eval "$(bash scripts/services.sh env)"; set +a
status=0
"$@" || status=$?
[ "${KEEP_SERVICES:-}" = 1 ] || bash scripts/services.sh down
exit $status
