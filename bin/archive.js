#!/usr/bin/env node
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
