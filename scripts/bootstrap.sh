#!/usr/bin/env bash
# Makes a fresh clone runnable: installs npm dependencies when node_modules is missing or older
# than the lockfile. Called by scripts/start.sh and scripts/test.sh, so `npm start` and
# `npm test` work before anyone has run `npm install`.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
stamp=node_modules/.archive-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  echo "[bootstrap] installing npm dependencies…" >&2
  # `npm install`, not `npm ci`: the lockfile records only this platform's optional native
  # packages (sharp, jieba, canvas), which npm 11's `ci` rejects as out of sync; install honours
  # the locked versions all the same.
  npm install --no-audit --no-fund --loglevel=error >&2
  touch "$stamp"
fi
