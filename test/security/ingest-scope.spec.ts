/**
 * #13.4: ingest honours the caller's fonds scope, over the API and the CLI alike, and the answer
 * to a duplicate upload never names an item the caller may not read.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { itemModel } from '../../src/models/item.model';
import { api, cli, pngScan, securityContext, upload, type SecurityContext } from './helpers';

describe('#13.4 ingest honours the caller\'s fonds scope', function () {
  this.timeout(120_000);
  let c: SecurityContext;
  const count = (fonds: string) => itemModel(c.rt.db).countDocuments({ fonds });
  const originals = async () => {
    let n = 0;
    for await (const _key of c.rt.storage.blobs.list('originals/')) n++;
    return n;
  };

  before(async () => {
    c = await securityContext([
      ['cw.a', ['caseworker'], ['A01'], 'internal'],
      ['ar.all', ['archivist']],
    ]);
  });
  after(async () => c?.close());

  it('#13.4 a caseworker scoped to A01 cannot ingest into B02 over the API: 403, nothing stored', async () => {
    const before = await originals();
    const res = await upload(c, 'cw.a', '?fonds=B02', [{ name: 'a.png', data: await pngScan(1) }]);
    assert.equal(res.status, 403);
    assert.equal(res.json.error.details.reason, 'out_of_scope');
    assert.equal(await count('B02'), 0);
    assert.equal(await originals(), before, 'no original left in the blob store');
  });

  it('#13.4 without ?fonds a caseworker scoped to one fonds ingests into it (not the configured default)', async () => {
    const res = await upload(c, 'cw.a', '', [{ name: 'b.png', data: await pngScan(2) }]);
    assert.equal(res.status, 202, JSON.stringify(res.json));
    const item = await itemModel(c.rt.db).findById(res.json.items[0].id).lean();
    assert.equal(item?.fonds, 'A01');
  });

  it('#13.4 the duplicate answer never returns the id of an item the caller may not read', async () => {
    const scan = await pngScan(3);
    const first = await upload(c, 'ar.all', '?fonds=A01', [{ name: 'c.png', data: scan }]);
    assert.equal(first.status, 202);
    const hiddenId = first.json.items[0].id as string;
    assert.equal((await api(c, 'ar.all', 'PUT', `/api/v1/items/${hiddenId}/access-level`, { level: 'sensitive' })).status, 200);
    assert.equal((await api(c, 'cw.a', 'GET', `/api/v1/items/${hiddenId}`)).status, 403, 'the caseworker may not read it');
    const before = await originals();
    const again = await upload(c, 'cw.a', '?fonds=A01', [{ name: 'c.png', data: scan }]);
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'duplicate_item');
    assert.ok(!JSON.stringify(again.json).includes(hiddenId), 'the hidden item id is not in the answer');
    assert.equal(await originals(), before, 'the copy just uploaded was discarded');
    // split=files: the other files still go in; the hidden one is reported without its id.
    const mixed = await upload(c, 'cw.a', '?fonds=A01&split=files', [{ name: 'c.png', data: scan }, { name: 'd.png', data: await pngScan(4) }]);
    assert.equal(mixed.status, 202);
    assert.equal(mixed.json.items.length, 1);
    assert.equal(mixed.json.errors[0].code, 'duplicate_item');
    assert.ok(!JSON.stringify(mixed.json).includes(hiddenId));
  });

  it('#13.4 `archive ingest --fonds B02` as a caseworker scoped to A01 is refused (exit 2, forbidden), nothing stored', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sec-ingest-')), 'e.png');
    fs.writeFileSync(file, await pngScan(5));
    const before = await originals();
    const r = await cli(c, ['ingest', file, '--fonds', 'B02', '--as', 'cw.a', '--json']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).error.code, 'forbidden');
    assert.equal(await count('B02'), 0);
    assert.equal(await originals(), before);
    const ok = await cli(c, ['ingest', file, '--as', 'cw.a', '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const item = await itemModel(c.rt.db).findById(JSON.parse(ok.stdout).id).lean();
    assert.equal(item?.fonds, 'A01');
  });
});
