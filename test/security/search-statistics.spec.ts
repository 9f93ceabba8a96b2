/**
 * #13.6: search scores reveal nothing about pages outside the caller's view. A caseworker of
 * fonds A01 cleared to `internal` searches for an ID number and for a word; then pages the
 * caseworker cannot see are added that hold the same number and word — in another fonds, at a
 * higher level, and an item that was removed (destroyed). Every score must be exactly the same.
 */
import assert from 'node:assert/strict';
import { idCheckDigit } from '../../src/domain/id-number';
import { indexItem, removeItem } from '../../src/services/search';
import { api, fileItem, securityContext, type SecurityContext } from './helpers';

const ID = '11010519870315231' + idCheckDigit('11010519870315231');

describe('#13.6 search ranking statistics stay inside the caller\'s view', function () {
  this.timeout(120_000);
  let c: SecurityContext;
  const scores = async (who: string, q: string) => {
    const res = await api(c, who, 'GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=100`);
    assert.equal(res.status, 200, res.text);
    return Object.fromEntries((res.json.hits as Array<{ id: string; score: number }>).map((h) => [h.id, h.score]));
  };
  const indexed = async (spec: Parameters<typeof fileItem>[1], level?: string) => {
    const id = await fileItem(c.rt, spec);
    if (level) assert.equal((await api(c, 'ar', 'PUT', `/api/v1/items/${id}/access-level`, { level })).status, 200);
    await indexItem(c.rt, id);
    return id;
  };

  before(async () => {
    c = await securityContext([
      ['cw.a', ['caseworker'], ['A01'], 'internal'],
      ['ar', ['archivist']],
    ]);
    await indexed({ fonds: 'A01', pages: [`申请人张三 公民身份号码${ID} 工伤认定申请`, '工伤认定决定 送达回证'], persons: [{ name: '张三', idNumber: ID }] });
    await indexed({ fonds: 'A01', pages: ['参保人员基本养老保险待遇核定表 工伤 无关内容'] });
  });
  after(async () => c?.close());

  it('#13.6 the score of a query is identical whether or not hidden pages contain the term', async () => {
    const queries = [ID, '工伤认定', '张三 工伤'];
    const before: Record<string, Record<string, number>> = {};
    for (const q of queries) {
      before[q] = await scores('cw.a', q);
      assert.ok(Object.keys(before[q]!).length >= 1, `${q}: a hit to compare`);
    }
    const hidden = [];
    for (let i = 0; i < 3; i++) {
      const page = `公民身份号码${ID} 工伤认定申请 张三 工伤认定决定`;
      hidden.push(await indexed({ fonds: 'B02', pages: [page, page], persons: [{ name: '张三', idNumber: ID }] })); // another fonds
      hidden.push(await indexed({ fonds: 'A01', pages: [page], persons: [{ name: '张三', idNumber: ID }] }, 'sensitive')); // above the caller's clearance
      const removed = await indexed({ fonds: 'A01', pages: [page, page, page] }); // destroyed later
      await removeItem(c.rt, removed);
    }
    // The archivist sees the hidden ones: they are indexed and match.
    const all = await scores('ar', ID);
    assert.ok(hidden.every((id) => id in all), 'the hidden pages match the query for someone who may see them');
    for (const q of queries) assert.deepEqual(await scores('cw.a', q), before[q], `scores for ${q}`);
  });
});
