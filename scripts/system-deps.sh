#!/usr/bin/env bash
# System packages that npm cannot provide, by group. Idempotent: installs only what is missing and
# runs `apt-get update` at most once. Runs as root (CI, Docker, the dev container).
#   bash scripts/system-deps.sh fonts pdf-tools browser   # before tests
#   bash scripts/system-deps.sh tesseract           # before bench:ocr
#   bash scripts/system-deps.sh opensearch          # before scripts/opensearch.sh provision
# To add a group, add one line to DEP_GROUPS.
set -euo pipefail

declare -A DEP_GROUPS=(
  # CJK fonts: the real-text PDFs (销毁清册, certificates, reports: ocr/font.ts) and the OCR fixtures (sans + serif).
  [fonts]="fonts-wqy-zenhei fonts-arphic-uming"
  # A third CJK face (楷体, AR PL UKai) used only by bench:extract's held-out set: fonts the tuning set never saw.
  [fonts-heldout]="fonts-arphic-ukai"
  # pdftotext: tests check that the PDF text layer is extractable.
  [pdf-tools]="poppler-utils"
  # The native tesseract CLI, the baseline in bench/ocr.ts.
  [tesseract]="tesseract-ocr tesseract-ocr-chi-sim"
  # Debian's Chromium, driven by playwright-core in the web UI tests (test/e2e).
  [browser]="chromium"
  # hyperfine: command start-up timing in bench/startup.ts (optional; the bench times itself without it).
  [bench]="hyperfine"
  # Java 17 and Maven: scripts/opensearch.sh builds the local OpenSearch node from Maven Central
  # jars (the OpenSearch search backend's tests and bench:search).
  [opensearch]="openjdk-17-jdk-headless maven"
)

if [ $# -eq 0 ]; then
  echo "usage: $0 GROUP... (groups: ${!DEP_GROUPS[*]})" >&2
  exit 2
fi

missing=()
for group in "$@"; do
  if [ -z "${DEP_GROUPS[$group]+x}" ]; then
    echo "system-deps: unknown group '$group' (groups: ${!DEP_GROUPS[*]})" >&2
    exit 2
  fi
  for pkg in ${DEP_GROUPS[$group]}; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else echo "system-deps: need root to install ${missing[*]}" >&2; exit 1; fi
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# An empty package list means this container never ran `apt-get update`.
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
