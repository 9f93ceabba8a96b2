#!/usr/bin/env bash
# `npm test`: the whole suite. Installs what is missing, lints, type-checks, starts real FerretDB
# and MinIO on test ports with a fresh data folder, runs every mocha spec, stops the services.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
t0=$(date +%s)
bash scripts/bootstrap.sh
[ -x scripts/system-deps.sh ] && bash scripts/system-deps.sh fonts pdf-tools browser opensearch
# OpenSearch's jars (Maven Central, cached outside the clone) resolve while lint and the builds run.
mkdir -p .data
bash scripts/opensearch.sh provision > .data/opensearch-provision.log 2>&1 &
provision=$!

echo "== lint"; npx eslint . --max-warnings=0; node scripts/check-cycles.js
echo "== typecheck"; npx tsc --noEmit -p tsconfig.json && npx vue-tsc --noEmit -p web/tsconfig.json
# The CLI specs run bin/archive.js on the compiled dist/, as `npm start` does (a compiled worker
# once had no schedule to file with: its data files were not in dist/; the specs caught that).
echo "== build"; node scripts/build.js
echo "== web build"; bash scripts/build-web.sh --force

export ARCHIVE_DATA_DIR=$REPO/.data/test
export ARCHIVE_MONGO_PORT=${ARCHIVE_MONGO_PORT:-27317} ARCHIVE_MINIO_PORT=${ARCHIVE_MINIO_PORT:-9300} ARCHIVE_MINIO_CONSOLE_PORT=${ARCHIVE_MINIO_CONSOLE_PORT:-9301}
# The search specs run on both backends; the OpenSearch node is this run's own (port, data folder).
export ARCHIVE_OPENSEARCH_PORT=${ARCHIVE_OPENSEARCH_PORT:-9330} ARCHIVE_OPENSEARCH_QUICK=1
bash scripts/services.sh down >/dev/null 2>&1 || true
bash scripts/opensearch.sh down >/dev/null 2>&1 || true
rm -rf "$ARCHIVE_DATA_DIR"
echo "== services"; bash scripts/services.sh up
trap 'bash scripts/services.sh down >/dev/null 2>&1 || true; bash scripts/opensearch.sh down >/dev/null 2>&1 || true' EXIT
if ! wait "$provision"; then cat .data/opensearch-provision.log; exit 1; fi
echo "== opensearch"; bash scripts/opensearch.sh up

echo "== mocha"
specs=("test/unit/**/*.spec.ts" "test/integration/**/*.spec.ts" "test/api/**/*.spec.ts" "test/security/**/*.spec.ts" "test/slow/**/*.spec.ts" "test/e2e/**/*.spec.ts")
npx mocha --reporter test/helpers/summary-reporter.js "${specs[@]}" "$@"
echo "== done in $(( $(date +%s) - t0 )) s"
