#!/usr/bin/env node
// `npm run build`: compiles src/ and the leaf packages to dist/ (tsc, incremental) when a source
// changed since the last build; `--force` builds anyway. Called by scripts/start.sh and test.sh.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { ROOT, STAMP, distIsFresh } = require('../bin/dist');

if (!process.argv.includes('--force') && distIsFresh()) {
  process.exit(0);
}
const started = new Date();
process.stderr.write('[build] compiling TypeScript to dist/ …\n');
const t0 = Date.now();
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
// Data files read at run time beside their module (tsc copies only what is imported): the schedule
// versions. Without them a compiled worker has no schedule in force and fails every filing.
for (const dir of ['retention-rules/rules']) {
  fs.rmSync(path.join(ROOT, 'dist', dir), { recursive: true, force: true });
  fs.cpSync(path.join(ROOT, dir), path.join(ROOT, 'dist', dir), { recursive: true });
}
fs.mkdirSync(path.dirname(STAMP), { recursive: true });
fs.writeFileSync(STAMP, `${started.toISOString()}\n`);
// The stamp carries the build's start: a source saved during the build makes dist/ stale again.
fs.utimesSync(STAMP, started, started);
process.stderr.write(`[build] done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
