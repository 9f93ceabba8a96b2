import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { classify } from '../../../src/services/filing/classification';
import { openTestRuntime } from '../../helpers/runtime';

// Text no title rule knows, so only the learned classifier can place it.
const TEXT = '星辰档案柜第七号特别登记簿册甲乙丙丁戊己庚辛壬癸';
// The classifier needs two labels before it predicts anything.
const OTHER = '河流山川湖泊海洋森林草原沙漠戈壁冰川雪山峡谷';

/**
 * Issue #10: the learned classifier is cached per process. A worker process must not keep filing
 * with the model it loaded first after another process (the API, where archivists correct) learned.
 */
describe('learned classifier: a change made by another process is seen on the next use', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  before(async () => {
    ctx = await openTestRuntime();
  });
  after(async () => ctx?.close());

  it('process B learns an example; process A, which had loaded the model before, classifies with it', async () => {
    const before = await classify(ctx.rt, { title: null, text: TEXT, formedOn: '2020-01-01' });
    assert.notEqual(before.item, '9-03', 'nothing learned yet');

    // A second OS process on the same database and keystore teaches the classifier.
    const script = `
      const { parseConfig } = require('./src/config');
      const { createRuntime } = require('./src/runtime');
      const { learn } = require('./src/services/filing/classification');
      (async () => {
        const rt = await createRuntime(parseConfig(JSON.parse(process.env.TEST_ENV)));
        for (let i = 0; i < 3; i++) await learn(rt, 'aaaaaaaaaaaaaaaaaaaaaaa' + i, '9-03', ${JSON.stringify(TEXT)});
        for (let i = 0; i < 3; i++) await learn(rt, 'bbbbbbbbbbbbbbbbbbbbbbb' + i, '9-01', ${JSON.stringify(OTHER)});
        await rt.close();
      })().catch((e) => { console.error(e); process.exit(1); });`;
    execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: path.resolve(__dirname, '../../..'), env: { ...process.env, TEST_ENV: JSON.stringify({ ...ctx.env, LOG_LEVEL: 'silent' }) }, stdio: ['ignore', 'ignore', 'inherit'] });

    const after = await classify(ctx.rt, { title: null, text: TEXT, formedOn: '2020-01-01' });
    assert.equal(after.item, '9-03', 'process A rebuilt its model from the stamp process B left');
    assert.equal(after.source, 'classifier');
  });
});
