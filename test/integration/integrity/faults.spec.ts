import assert from 'node:assert/strict';
import { runFaults } from '../../faults/harness';

// The short version of `npm run test:faults` (the long one and its last result: docs/reliability.md).
describe('fault injection (short): SIGKILL of the API, the workers, FerretDB and MinIO during an ingest, then every invariant holds', function () {
  this.timeout(15 * 60_000);

  it('loses, duplicates and half-files nothing; blobs, 档号, audit chain and index all check out', async () => {
    const r = await runFaults({ seed: 7, pages: 6, faults: 5, minutes: 4, settleMinutes: 5, gapS: [2, 6], log: (l) => console.log(`      ${l}`) });
    console.log(`      ${r.line}`);
    assert.equal(r.faults, 5, 'one SIGKILL each: API, both workers, FerretDB, MinIO');
    assert.deepEqual(Object.keys(r.byTarget).sort(), ['api', 'ferretdb', 'minio', 'worker1', 'worker2']);
    assert.ok(r.items >= 3, `${r.items} items`);
    assert.ok(r.filed >= 1, `${r.filed} of ${r.items} items filed: the 档号 check had nothing to check`);
    assert.deepEqual(
      { lost: r.lost, duplicated: r.duplicated, halfFiled: r.halfFiled, failed: r.failed, blobErrors: r.blobErrors, numberingErrors: r.numberingErrors, indexErrors: r.indexErrors, auditOk: r.auditOk },
      { lost: 0, duplicated: 0, halfFiled: 0, failed: 0, blobErrors: 0, numberingErrors: 0, indexErrors: 0, auditOk: true },
    );
  });
});
