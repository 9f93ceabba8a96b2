#!/usr/bin/env bash
# Provisions, starts and stops a local single-node OpenSearch 2.19.6 for the OpenSearch search
# backend's tests and benchmarks (ARCHIVE_SEARCH_BACKEND=opensearch, issue #16 §4). Loopback
# only, security off, small heap; data under the run's ARCHIVE_DATA_DIR. Production runs a real
# cluster (docker-compose.yml); this node is for one developer or one CI run.
#
#   scripts/opensearch.sh provision   resolve the jars with Maven, compile the launcher (idempotent)
#   scripts/opensearch.sh up          provision, start the node, wait until it answers on HTTP
#   scripts/opensearch.sh down        stop this run's node (never another run's)
#   scripts/opensearch.sh status      print whether this run's node is running
#   scripts/opensearch.sh env         print the env vars that point the app at this node
#
# The jars come from Maven Central (OpenSearch, its netty4/analysis-common/painless modules,
# log4j) through `mvn dependency:copy-dependencies` on scripts/opensearch/pom.xml; the launcher
# (scripts/opensearch/ArchiveSearchNode.java) is compiled with javac. Both are cached once per
# user in ARCHIVE_CACHE_DIR (default ~/.cache/archive-dev/opensearch/<hash of pom + launcher>),
# so `up` downloads nothing once provisioned. Needs Java 17+ (java, javac) and Maven (mvn).
#
# Settings (env): ARCHIVE_DATA_DIR (default <repo>/.data/dev), ARCHIVE_OPENSEARCH_PORT (9200),
# ARCHIVE_OPENSEARCH_TRANSPORT_PORT (HTTP port + 50), ARCHIVE_OPENSEARCH_HEAP (512m),
# ARCHIVE_OPENSEARCH_QUICK=1 (C1 JIT only: starts faster, queries slower; for tests).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$REPO/scripts/opensearch"
CACHE=${ARCHIVE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/archive-dev}
DATA=${ARCHIVE_DATA_DIR:-$REPO/.data/dev}
HTTP_PORT=${ARCHIVE_OPENSEARCH_PORT:-9200}
# Transport defaults to HTTP + 50: 9300 is the test MinIO's port (scripts/test.sh).
TRANSPORT_PORT=${ARCHIVE_OPENSEARCH_TRANSPORT_PORT:-$((HTTP_PORT + 50))}
HEAP=${ARCHIVE_OPENSEARCH_HEAP:-512m}
RUN="$DATA/run"
HOME_DIR="$DATA/opensearch"

log() { echo "[opensearch] $*" >&2; }
die() { echo "[opensearch] ERROR: $*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed. The local OpenSearch node needs a Java 17+ JDK (java, javac) and Maven (mvn):
  on Debian/Ubuntu: apt-get install openjdk-17-jdk-headless maven"
}

# One cache folder per pom + launcher version: changing either provisions afresh, side by side.
dist_dir() {
  local key
  key=$(cat "$SRC/pom.xml" "$SRC/ArchiveSearchNode.java" | sha256sum | cut -c1-12)
  echo "$CACHE/opensearch/$key"
}

provision() {
  local dir; dir=$(dist_dir)
  if [ -f "$dir/.ready" ]; then echo "$dir"; return; fi
  need java; need javac; need mvn
  log "resolving OpenSearch 2.19.6 from Maven Central into $dir (first time only, about a minute)…"
  mkdir -p "$CACHE/opensearch"
  local tmp; tmp=$(mktemp -d "$CACHE/opensearch/.provision.XXXXXX")
  cp "$SRC/pom.xml" "$tmp/pom.xml"
  (cd "$tmp" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >"$tmp/mvn.log" 2>&1) ||
    { tail -n 30 "$tmp/mvn.log" >&2; rm -rf "$tmp"; die "Maven could not resolve the OpenSearch jars (log above)"; }
  mkdir -p "$tmp/classes"
  javac -nowarn -d "$tmp/classes" -cp "$tmp/lib/*" "$SRC/ArchiveSearchNode.java" || { rm -rf "$tmp"; die "compiling the launcher failed"; }
  rm -f "$tmp/mvn.log" "$tmp/pom.xml"
  touch "$tmp/.ready"
  # Another run may have provisioned meanwhile: keep theirs, drop ours.
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  log "provisioned $(ls "$dir/lib" | wc -l) jars ($(du -sh "$dir/lib" | cut -f1))"
  echo "$dir"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Ours only: the pid in this run's folder, and that process is our launcher with this run's home.
alive() {
  [ -f "$RUN/opensearch.pid" ] || return 1
  local pid; pid=$(cat "$RUN/opensearch.pid")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-Darchive.home=$HOME_DIR "
}

start() {
  if alive && port_open "$HTTP_PORT"; then log "already running on 127.0.0.1:$HTTP_PORT"; return; fi
  port_open "$HTTP_PORT" && die "port $HTTP_PORT is taken by another process; set ARCHIVE_OPENSEARCH_PORT"
  port_open "$TRANSPORT_PORT" && die "port $TRANSPORT_PORT is taken by another process; set ARCHIVE_OPENSEARCH_TRANSPORT_PORT"
  need java
  local dir; dir=$(provision)
  mkdir -p "$HOME_DIR/config" "$HOME_DIR/data" "$HOME_DIR/logs" "$HOME_DIR/tmp" "$RUN"
  : >"$HOME_DIR/config/opensearch.yml"
  local jit=()
  [ "${ARCHIVE_OPENSEARCH_QUICK:-}" = 1 ] && jit=(-XX:TieredStopAtLevel=1)
  local t0; t0=$(date +%s%N)
  setsid java -Xms"$HEAP" -Xmx"$HEAP" "${jit[@]}" -XX:+UseG1GC -Xss1m -Djava.awt.headless=true \
    -Dfile.encoding=UTF-8 -Djava.io.tmpdir="$HOME_DIR/tmp" -Dlog4j2.disable.jmx=true \
    -Dlog4j.shutdownHookEnabled=false -Darchive.home="$HOME_DIR" -Darchive.http.port="$HTTP_PORT" \
    -Darchive.transport.port="$TRANSPORT_PORT" -cp "$dir/classes:$dir/lib/*" ArchiveSearchNode \
    >"$RUN/opensearch.log" 2>&1 </dev/null &
  echo $! >"$RUN/opensearch.pid"
  local i
  for ((i = 0; i < 1800; i++)); do
    if curl -fsS "http://127.0.0.1:$HTTP_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      log "OpenSearch 2.19.6 up on 127.0.0.1:$HTTP_PORT in $(( ($(date +%s%N) - t0) / 1000000 )) ms (data $HOME_DIR, log $RUN/opensearch.log)"
      return
    fi
    alive || { tail -n 30 "$RUN/opensearch.log" >&2 || true; die "the node exited during start-up (log: $RUN/opensearch.log)"; }
    sleep 0.1
  done
  die "the node did not answer on 127.0.0.1:$HTTP_PORT within 180 s (log: $RUN/opensearch.log)"
}

stop() {
  [ -f "$RUN/opensearch.pid" ] || return 0
  if alive; then
    local pid i; pid=$(cat "$RUN/opensearch.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "did not stop in 30 s; killing"; kill -KILL "$pid" 2>/dev/null || true; }
    log "stopped"
  fi
  rm -f "$RUN/opensearch.pid"
}

case "${1:-}" in
  provision) provision >/dev/null; log "ready in $(dist_dir)";;
  up)
    # Parallel test processes of one run may all ask for the node: one starts it, the rest wait.
    mkdir -p "$RUN"; exec 9>"$RUN/opensearch.lock"; flock 9; start;;
  down) stop;;
  status) if alive; then echo "opensearch: running (pid $(cat "$RUN/opensearch.pid"), http 127.0.0.1:$HTTP_PORT)"; else echo "opensearch: stopped"; fi;;
  env) echo "ARCHIVE_SEARCH_BACKEND=opensearch"; echo "OPENSEARCH_URL=http://127.0.0.1:$HTTP_PORT";;
  *) echo "usage: $0 provision|up|down|status|env" >&2; exit 2;;
esac
