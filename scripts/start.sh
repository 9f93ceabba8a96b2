#!/usr/bin/env bash
# `npm start`: the whole system on embedded defaults. Installs what is missing, starts local
# FerretDB + MinIO (scripts/services.sh), builds the web UI when its build is missing or older
# than its sources (scripts/build-web.sh), then the API and an OCR worker in one process.
# Ctrl-C stops the app gracefully; the services keep running (stop them: npm run services:down).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
bash scripts/bootstrap.sh
[ -x scripts/system-deps.sh ] && bash scripts/system-deps.sh fonts
node scripts/build.js   # compiled JavaScript in dist/, rebuilt only when a source changed
bash scripts/build-web.sh
bash scripts/services.sh up
# bin/archive.js as a program (not `node bin/archive.js`): its first line sets glibc's malloc and V8's heap.
exec bin/archive.js serve "$@"
