// mocha's spec reporter plus, at the end, the slowest spec files (where the suite's time goes,
// so CI stays well under its limit) and one closing line in the plain form CI tools read:
// "N passed, N failed, N skipped".
'use strict';
const path = require('node:path');
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const started = new Map();
    const byFile = new Map();
    runner.on('suite', (suite) => {
      if (suite.file && suite.parent && suite.parent.root) started.set(suite, Date.now());
    });
    runner.on('suite end', (suite) => {
      const t0 = started.get(suite);
      if (t0 === undefined) return;
      const f = path.relative(process.cwd(), suite.file);
      byFile.set(f, (byFile.get(f) || 0) + (Date.now() - t0));
    });
    runner.once('end', () => {
      const s = this.stats;
      const slow = [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
      if (slow.length) {
        process.stdout.write('\nslowest spec files:\n');
        for (const [f, ms] of slow) process.stdout.write(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${f}\n`);
      }
      process.stdout.write(`\n${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}
module.exports = SummaryReporter;
