// Is the compiled JavaScript in dist/ current? A cheap check (a stat per source file, ~2 ms) used
// by bin/archive.js to choose dist/ or the TypeScript sources, and by scripts/build.js to build
// only when something changed. dist/.built is touched with the build's start time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SOURCES = ['src', 'ocr', 'storage', 'retention-rules', 'render'];
const FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const STAMP = path.join(ROOT, 'dist', '.built');

function newestSource() {
  let newest = 0;
  const visit = (dir) => {
    let entries;
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) visit(p);
      else if (/\.(ts|json)$/.test(e.name)) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCES) visit(path.join(ROOT, d));
  for (const f of FILES) {
    try {
      newest = Math.max(newest, fs.statSync(path.join(ROOT, f)).mtimeMs);
    } catch {
      /* optional */
    }
  }
  return newest;
}

/** True when dist/ was built after the last change to any source. */
function distIsFresh() {
  let built;
  try {
    built = fs.statSync(STAMP).mtimeMs;
  } catch {
    return false;
  }
  return built >= newestSource();
}

module.exports = { ROOT, STAMP, distIsFresh };
