#!/bin/sh
":" //; MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-1048576}" exec node --initial-old-space-size=128 --max-semi-space-size=4 "$0" "$@"
// ↑ Run as a program (`npx archive`, ./bin/archive.js), the line above is shell: it starts Node in
// this same process with settings for processes that read pages (docs/benchmarks.md, bench:ocr);
// each glibc one only where the caller has not chosen otherwise:
// - glibc's malloc limited to two arenas. Sharp's and the recogniser's threads each get an arena of
//   their own otherwise and keep what they freed: ~180 MB more resident memory.
// - Blocks of 1 MB and more (page images: 5-26 MB each, several a page) mapped on their own, so
//   that freeing one gives it back. glibc's default raises this bound to the largest block freed
//   so far (26 MB here), and the smaller page buffers then left holes in its heap that it keeps:
//   ~50 MB more. Such fresh blocks cost page faults when written (~400,000 more per 48 pages), but
//   asking for transparent huge pages for them (glibc.malloc.hugetlb=1, bench:ocr (17)) did not
//   pay when measured again in (18): alternate runs gave more system time with it (the kernel
//   compacts memory to find huge pages; 3.3-4.0 s against 2.8-3.1 s per 48 pages) and no less
//   memory (peaks 535-580 MB against 539-564 MB).
// - V8's young generation semispaces at most 4 MB instead of 16: ~30 MB less resident memory, for
//   ~40 ms more of scavenges per 48 pages.
// - V8's old generation first collected at 128 MB. Each page brings its recognition result (tens
//   of thousands of small objects) that outlives a scavenge; with V8's default start the ~60 MB
//   heap was fully collected every ~14 MB of such garbage: ~150 full collections and 4-5 s of the
//   main thread per 48 pages, against ~50 and 1 s with this: ~10% less CPU per page for ~30 MB
//   more peak resident memory.
//   Node refuses this flag in NODE_OPTIONS, hence here.
// Run as `node bin/archive.js`, Node skips the first line and reads the second as a string and a
// comment, and none of these settings applies.
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
