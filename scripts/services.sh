#!/usr/bin/env bash
# Provisions, starts and stops the two real local services: FerretDB (MongoDB wire protocol,
# SQLite backend) and MinIO. Loopback only; data under a git-ignored folder.
#
#   scripts/services.sh provision   build or locate both binaries (idempotent)
#   scripts/services.sh up          provision, start both, wait until they answer
#   scripts/services.sh down        stop both cleanly
#   scripts/services.sh status      print what is running
#   scripts/services.sh env         print the env vars that point the app at these services
#
# Settings (env): ARCHIVE_DATA_DIR (default <repo>/.data/dev), ARCHIVE_MONGO_PORT (27217),
# ARCHIVE_MINIO_PORT (9100), ARCHIVE_MINIO_CONSOLE_PORT (9101), ARCHIVE_CACHE_DIR
# (default ~/.cache/archive-dev: binaries are built once per user and reused by every clone).
set -euo pipefail

FERRETDB_VERSION=v1.24.2
# `go install github.com/minio/minio@latest` resolved to this pseudo-version on 2026-11-22;
# pinned so every clone and CI build the same server.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${ARCHIVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/archive-dev}
BIN="$CACHE/bin"
DATA=${ARCHIVE_DATA_DIR:-$REPO/.data/dev}
MONGO_PORT=${ARCHIVE_MONGO_PORT:-27217}
MINIO_PORT=${ARCHIVE_MINIO_PORT:-9100}
MINIO_CONSOLE_PORT=${ARCHIVE_MINIO_CONSOLE_PORT:-9101}
MINIO_USER=${ARCHIVE_MINIO_ROOT_USER:-archive-local}
MINIO_PASSWORD=${ARCHIVE_MINIO_ROOT_PASSWORD:-archive-local-secret}
RUN="$DATA/run"

log() { echo "[services] $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

need_go() {
  command -v go >/dev/null 2>&1 || die "$1 is not installed and Go is not available to build it.
  Install Go 1.22+ (https://go.dev/dl/) so this script can build it, or install $1 yourself and put it on PATH,
  or run the production stack from docker-compose.yml (see README)."
}

# Our build of FerretDB carries one patch, scripts/patches/ferretdb-v1.24.2-id-lookup.patch:
# FerretDB 1.24's SQLite backend creates the unique `_id` index on `_ferretdb_sjson->"_id"` but
# looked rows up with `_ferretdb_sjson->'$._id'`. Both extract the same value, yet SQLite matches
# an index to a query by the expression's text, so no lookup, update or delete by `_id` used the
# index: each scanned the whole collection (an item update took ~220 ms at 1,024 items and grew
# with the archive; docs/benchmarks.md, bench:dispose). The patch writes the lookup the way the
# index is written, and also pushes `_id` down when the filter holds more fields (a conditional
# update) or `_id: {$in: [...]}`. Existing databases need nothing: their indexes already have this
# form. The binary's name carries the patch's checksum, so a cached build from before is rebuilt.
FERRETDB_PATCH="$REPO/scripts/patches/ferretdb-$FERRETDB_VERSION-id-lookup.patch"
FERRETDB_BUILD="ferretdb-$FERRETDB_VERSION-$(sha256sum "$FERRETDB_PATCH" | cut -c1-8)"

ferretdb_bin() {
  if [ -x "$BIN/$FERRETDB_BUILD" ]; then echo "$BIN/$FERRETDB_BUILD"; return; fi
  if ! command -v go >/dev/null 2>&1 && command -v ferretdb >/dev/null 2>&1 \
     && ferretdb --version 2>/dev/null | grep -q "version: v1.24"; then
    log "using ferretdb from PATH; without Go we cannot build the patched one, so every update by _id scans its collection"
    command -v ferretdb; return
  fi
  need_go FerretDB
  log "building FerretDB $FERRETDB_VERSION (first time only, about 2-3 minutes)…"
  mkdir -p "$BIN"
  # `go install …@v1.24.2` fails here: the module proxy refuses FerretDB's version list, which
  # `go install` reads for its deprecation check. Downloading the exact version works, and the
  # module zip lacks the generated build/version/version.txt, which FerretDB panics without.
  local dir src
  dir=$(cd /tmp && GOFLAGS= go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || die "could not download FerretDB $FERRETDB_VERSION from the Go module proxy"
  src=$(mktemp -d)
  cp -r "$dir/." "$src/" && chmod -R u+w "$src"
  echo "$FERRETDB_VERSION" > "$src/build/version/version.txt"
  # `git apply` works outside a repository and is on every machine that has this clone.
  (cd "$src" && git apply "$FERRETDB_PATCH") || { rm -rf "$src"; die "applying $FERRETDB_PATCH failed"; }
  (cd "$src" && GOFLAGS= go build -o "$BIN/$FERRETDB_BUILD.tmp" ./cmd/ferretdb) || { rm -rf "$src"; die "building FerretDB failed"; }
  mv "$BIN/$FERRETDB_BUILD.tmp" "$BIN/$FERRETDB_BUILD"
  rm -rf "$src"
  echo "$BIN/$FERRETDB_BUILD"
}

minio_bin() {
  if command -v minio >/dev/null 2>&1; then command -v minio; return; fi
  if [ -x "$BIN/minio" ]; then echo "$BIN/minio"; return; fi
  need_go MinIO
  log "building MinIO $MINIO_VERSION (first time only, several minutes)…"
  mkdir -p "$BIN"
  local tmpbin; tmpbin=$(mktemp -d)
  GOBIN="$tmpbin" GOFLAGS= go install "github.com/minio/minio@$MINIO_VERSION" >&2 || { rm -rf "$tmpbin"; die "building MinIO failed"; }
  mv "$tmpbin/minio" "$BIN/minio"; rm -rf "$tmpbin"
  echo "$BIN/minio"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

wait_for() { # name port seconds
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    if port_open "$2"; then return 0; fi
    alive "$1" || { tail -n 20 "$RUN/$1.log" >&2 || true; die "$1 exited during start-up (log: $RUN/$1.log)"; }
    sleep 0.1
  done
  die "$1 did not answer on 127.0.0.1:$2 within $3 s (log: $RUN/$1.log)"
}

start_ferretdb() {
  if alive ferretdb && port_open "$MONGO_PORT"; then log "FerretDB already running on 127.0.0.1:$MONGO_PORT"; return; fi
  port_open "$MONGO_PORT" && die "port $MONGO_PORT is taken by another process; set ARCHIVE_MONGO_PORT"
  local bin; bin=$(ferretdb_bin)
  mkdir -p "$DATA/ferretdb" "$RUN"
  setsid "$bin" --handler=sqlite --sqlite-url="file:$DATA/ferretdb/" --state-dir="$RUN" \
    --listen-addr="127.0.0.1:$MONGO_PORT" --debug-addr=- --telemetry=disable --log-level=WARN \
    >"$RUN/ferretdb.log" 2>&1 < /dev/null &
  echo $! > "$RUN/ferretdb.pid"
  wait_for ferretdb "$MONGO_PORT" 30
  log "FerretDB $FERRETDB_VERSION up on 127.0.0.1:$MONGO_PORT (data $DATA/ferretdb)"
}

start_minio() {
  if alive minio && port_open "$MINIO_PORT"; then log "MinIO already running on 127.0.0.1:$MINIO_PORT"; return; fi
  port_open "$MINIO_PORT" && die "port $MINIO_PORT is taken by another process; set ARCHIVE_MINIO_PORT"
  local bin; bin=$(minio_bin)
  mkdir -p "$DATA/minio" "$RUN"
  MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" MINIO_BROWSER=off \
    MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    setsid "$bin" server "$DATA/minio" --quiet --address "127.0.0.1:$MINIO_PORT" \
    --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" >"$RUN/minio.log" 2>&1 < /dev/null &
  echo $! > "$RUN/minio.pid"
  wait_for minio "$MINIO_PORT" 60
  # The port opens before MinIO serves requests; its liveness endpoint tells when it does.
  local i
  for ((i = 0; i < 300; i++)); do
    if curl -fsS "http://127.0.0.1:$MINIO_PORT/minio/health/ready" >/dev/null 2>&1; then
      log "MinIO up on 127.0.0.1:$MINIO_PORT (data $DATA/minio)"; return
    fi
    sleep 0.1
  done
  die "MinIO did not become ready (log: $RUN/minio.log)"
}

stop_one() {
  local name=$1 pid i
  [ -f "$RUN/$name.pid" ] || return 0
  pid=$(cat "$RUN/$name.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$name did not stop in 10 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
    log "$name stopped"
  fi
  rm -f "$RUN/$name.pid"
}

print_env() {
  echo "MONGODB_URI=mongodb://127.0.0.1:$MONGO_PORT/archive"
  echo "MINIO_ENDPOINT=http://127.0.0.1:$MINIO_PORT"
  echo "MINIO_ACCESS_KEY=$MINIO_USER"
  echo "MINIO_SECRET_KEY=$MINIO_PASSWORD"
}

case "${1:-}" in
  provision) ferretdb_bin >/dev/null; minio_bin >/dev/null; log "binaries ready in $BIN (or on PATH)";;
  up) ferretdb_bin >/dev/null; minio_bin >/dev/null; start_ferretdb; start_minio;;
  down) stop_one minio; stop_one ferretdb;;
  stop-minio) stop_one minio;;   # for failure tests: take one service away and bring it back
  start-minio) minio_bin >/dev/null; start_minio;;
  status)
    for s in ferretdb minio; do if alive $s; then echo "$s: running (pid $(cat "$RUN/$s.pid"))"; else echo "$s: stopped"; fi; done;;
  env) print_env;;
  *) echo "usage: $0 provision|up|down|status|env" >&2; exit 2;;
esac
