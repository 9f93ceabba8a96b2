import assert from 'node:assert/strict';
import type { Connection } from 'mongoose';
import { checkNumbering, issueNumber } from '../../../src/services/filing/numbering';
import { dropTestDb, openTestDb, prepareModels } from '../../helpers/db';
import { archivalNumberModel } from '../../../src/models/archival-number.model';

describe('件号 allocation under concurrency (real FerretDB)', () => {
  let conn: Connection;
  before(async () => {
    conn = await openTestDb('numbers');
    archivalNumberModel(conn);
    await prepareModels(conn);
  });
  after(() => dropTestDb(conn));

  it('60 concurrent filings in one class get 1..60 exactly once (property over random interleavings)', async function () {
    this.timeout(60_000);
    for (let trial = 0; trial < 2; trial++) {
      const cls = `Z001-WS·2024-D30-YL-${trial}`;
      const ids = Array.from({ length: 60 }, (_, i) => `item-${trial}-${i}`);
      const got = await Promise.all(ids.map((id) => issueNumber(conn, cls, id)));
      assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1));
      const check = await checkNumbering(conn, cls);
      assert.deepEqual(check, { count: 60, max: 60, gaps: [], duplicates: [], withdrawn: [] });
    }
  });

  it('is idempotent per item: a retried filing keeps its number', async () => {
    const a = await issueNumber(conn, 'C-idem', 'x');
    const b = await issueNumber(conn, 'C-idem', 'x');
    const c = await issueNumber(conn, 'C-idem', 'y');
    assert.equal(a, 1);
    assert.equal(b, 1);
    assert.equal(c, 2);
  });

  it('classes number independently, and the check reports a gap made behind its back', async () => {
    await issueNumber(conn, 'C-a', 'p');
    await issueNumber(conn, 'C-b', 'q');
    assert.equal(await issueNumber(conn, 'C-a', 'r'), 2);
    await archivalNumberModel(conn).create({ classKey: 'C-a', seq: 5, itemId: 'forged' });
    const check = await checkNumbering(conn, 'C-a');
    assert.deepEqual(check.gaps, [3, 4]);
  });
});
