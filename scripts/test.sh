#!/usr/bin/env bash
# `npm test`: the whole suite. Installs what is missing, lints, type-checks, starts real FerretDB
# and MinIO on test ports with a fresh data folder, runs every mocha spec, stops the services.
# CI runs it on 2 cores: the steps before mocha run two or three at a time (each is mostly one
# process on one core, or waiting on a service), their output printed whole when they end.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
t0=$(date +%s)
bash scripts/bootstrap.sh
[ -x scripts/system-deps.sh ] && bash scripts/system-deps.sh fonts pdf-tools browser opensearch
mkdir -p .data/steps

export ARCHIVE_DATA_DIR=$REPO/.data/test
export ARCHIVE_MONGO_PORT=${ARCHIVE_MONGO_PORT:-27317} ARCHIVE_MINIO_PORT=${ARCHIVE_MINIO_PORT:-9300} ARCHIVE_MINIO_CONSOLE_PORT=${ARCHIVE_MINIO_CONSOLE_PORT:-9301}
# The search specs run on both backends; the OpenSearch node is this run's own (port, data folder).
export ARCHIVE_OPENSEARCH_PORT=${ARCHIVE_OPENSEARCH_PORT:-9330} ARCHIVE_OPENSEARCH_QUICK=1
bash scripts/services.sh down >/dev/null 2>&1 || true
bash scripts/opensearch.sh down >/dev/null 2>&1 || true
rm -rf "$ARCHIVE_DATA_DIR"
trap 'bash scripts/services.sh down >/dev/null 2>&1 || true; bash scripts/opensearch.sh down >/dev/null 2>&1 || true' EXIT

# Steps started with `step NAME CMD…` run in the background; `finish` waits for them all, prints
# each one's output under its name with its time, and fails if any failed.
names=(); pids=()
step() {
  local name=$1; shift
  ( s=$(date +%s); set +e; "$@"; rc=$?; echo "[$name: $(( $(date +%s) - s )) s]"; exit $rc ) > ".data/steps/$name.log" 2>&1 &
  names+=("$name"); pids+=($!)
}
finish() {
  local failed=0 i
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then echo "== ${names[$i]}"; else echo "== ${names[$i]} FAILED"; failed=1; fi
    cat ".data/steps/${names[$i]}.log"
  done
  names=(); pids=()
  return $failed
}

# OpenSearch's jars (Maven Central, cached outside the clone) resolve, and FerretDB and MinIO
# start, while lint and the type-checks run.
step opensearch bash -c 'bash scripts/opensearch.sh provision && bash scripts/opensearch.sh up'
step services bash scripts/services.sh up
step lint bash -c 'npx eslint . --max-warnings=0 && node scripts/check-cycles.js'
step typecheck bash -c 'npx tsc --noEmit -p tsconfig.json && npx vue-tsc --noEmit -p web/tsconfig.json'
finish
# After lint (which reads the tree): the CLI specs run bin/archive.js on the compiled dist/, as
# `npm start` does (a compiled worker once had no schedule to file with: its data files were not in
# dist/; the specs caught that); the browser specs serve web/dist.
step build node scripts/build.js
step web-build bash scripts/build-web.sh --force
finish

echo "== mocha ($(( $(date +%s) - t0 )) s in)"
specs=("test/unit/**/*.spec.ts" "test/integration/**/*.spec.ts" "test/api/**/*.spec.ts" "test/security/**/*.spec.ts" "test/slow/**/*.spec.ts" "test/reliability/**/*.spec.ts" "test/e2e/**/*.spec.ts")
npx mocha --reporter test/helpers/summary-reporter.js "${specs[@]}" "$@"
echo "== done in $(( $(date +%s) - t0 )) s"
