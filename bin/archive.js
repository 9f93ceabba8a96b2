#!/bin/sh
":" //; MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" exec node --initial-old-space-size=128 "$0" "$@"
// ↑ Run as a program (`npx archive`, ./bin/archive.js), the line above is shell: it starts Node in
// this same process with two settings for processes that read pages (docs/benchmarks.md, bench:ocr):
// - glibc's malloc limited to two arenas unless the caller chose otherwise. Sharp's and the
//   recogniser's threads each get an arena of their own otherwise and keep what they freed: ~180 MB
//   more resident memory.
// - V8's old generation first collected at 128 MB. Each page brings its recognition result (tens
//   of thousands of small objects) that outlives a scavenge; with V8's default start the ~60 MB
//   heap was fully collected every ~14 MB of such garbage: ~150 full collections and 4-5 s of the
//   main thread per 48 pages, against ~50 and 1 s with this: ~10% less CPU per page for ~30 MB
//   more peak resident memory.
//   Node refuses this flag in NODE_OPTIONS, hence here.
// Run as `node bin/archive.js`, Node skips the first line and reads the second as a string and a
// comment, and neither setting applies.
// The CLI runs the compiled JavaScript in dist/ (`npm run build`; `npm start` and `npm test` build
// it when stale). When dist/ is missing or older than a source file, it runs the TypeScript
// sources through tsx instead (slower to start, never stale), so a fresh clone works unbuilt.
'use strict';
const path = require('node:path');
const { ROOT, distIsFresh } = require('./dist');

let entry;
if (distIsFresh()) {
  entry = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
} else {
  if (process.stderr.isTTY) process.stderr.write('[archive] dist/ is stale or missing: running the TypeScript sources (npm run build makes start-up fast)\n');
  require('tsx/cjs/api').register();
  entry = path.join(ROOT, 'src', 'cli', 'main.ts');
}
require(entry)
  .main(process.argv.slice(2))
  .then((code) => { process.exitCode = code; })
  .catch((err) => { console.error(err && err.stack ? err.stack : err); process.exitCode = 1; });
