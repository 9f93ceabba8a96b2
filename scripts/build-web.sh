#!/usr/bin/env bash
# Builds the web workplace (web/ → web/dist) when the build is missing or older than its sources
# (web/src, web/index.html, the Vite config, the lockfile). `--force` builds regardless.
# Called by scripts/start.sh and scripts/test.sh; `npm run build:web` runs it.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
stamp=web/dist/.built
if [ "${1:-}" != "--force" ] && [ -f "$stamp" ] && [ -f web/dist/index.html ] \
  && [ -z "$(find web/src web/index.html web/vite.config.mts web/tsconfig.json package-lock.json -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  exit 0
fi
echo "[build-web] building the web UI…" >&2
npx vite build --config web/vite.config.mts --logLevel warn >&2
touch "$stamp"
