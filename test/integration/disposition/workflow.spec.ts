/**
 * The appraisal → 销毁清册 → approvals → 监销 → certificate state machine, every path, through the
 * real FerretDB and MinIO (3号令 第十至十二条; regulations.md R2-R6, R10).
 */
import assert from 'node:assert/strict';
import { itemModel, type ItemDoc } from '../../../src/models/item.model';
import { appraisalRoundModel, dispositionClaimModel, registerModel } from '../../../src/models/disposition.model';
import { searchItems } from '../../../src/services/search';
import {
  cancelList,
  certificateFiles,
  closeRound,
  confirmExecution,
  createList,
  dueGroups,
  dueList,
  editList,
  EXEC_STAGES,
  fileList,
  giveOpinions,
  onHoldChange,
  openRound,
  placeHold,
  reapplyDestructions,
  releaseHold,
  runExecution,
  signList,
  startExecution,
  verifyCertificate,
  agencyKey,
  type HoldChange,
} from '../../../src/services/disposition';
import { openTestRuntime } from '../../helpers/runtime';
import { actor, makeDueItem, readableBlobs, type Actor } from '../../helpers/disposition';

const DAY = 86_400_000;
/** For steps refused before the second factor is checked (the refusal must not depend on the code). */
const NOT_CHECKED = '000000';

describe('disposition: appraisal, destruction list, approvals, supervised destruction, certificate', function () {
  this.timeout(180_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let co: Actor;
  let n = 0;

  before(async () => {
    ctx = await openTestRuntime();
    co = await actor(ctx.rt, 'co', 'compliance_officer');
  });
  after(async () => ctx?.close());

  const expectCode = async (p: Promise<unknown>, code: string, reason?: string) => {
    await assert.rejects(p, (err: any) => {
      assert.equal(err.code, code, `${err.code}: ${err.message}`);
      if (reason) assert.equal(err.details?.reason, reason, JSON.stringify(err.details));
      return true;
    });
  };

  /** A fresh group (two members, a head, two supervisors) for one list. */
  async function group() {
    const k = ++n;
    const rt = ctx.rt;
    return {
      m1: await actor(rt, `m1.${k}`, 'appraisal_member'),
      m2: await actor(rt, `m2.${k}`, 'appraisal_member'),
      head: await actor(rt, `head.${k}`, 'agency_head'),
      s1: await actor(rt, `s1.${k}`, 'disposal_supervisor'),
      s2: await actor(rt, `s2.${k}`, 'disposal_supervisor'),
    };
  }

  async function destroyAgreed(ids: string[], g: Awaited<ReturnType<typeof group>>) {
    const rt = ctx.rt;
    const round = await openRound(rt, co.p, { title: `鉴定 ${n}`, members: [{ username: g.m1.p.username, capacity: 'archivist' }, { username: g.m2.p.username, capacity: 'business_staff' }], itemIds: ids });
    for (const m of [g.m1, g.m2]) await giveOpinions(rt, m.p, round.id, ids.map((itemId) => ({ itemId, opinion: 'destroy' as const, reason: '保管期满，已无查考价值' })));
    await closeRound(rt, co.p, round.id);
    return (await createList(rt, co.p, { roundId: round.id })).id;
  }

  async function approve(listId: string, g: Awaited<ReturnType<typeof group>>) {
    const rt = ctx.rt;
    await signList(rt, g.m1.p, listId, { step: 'appraisal', totp: await g.m1.code() });
    await signList(rt, g.m2.p, listId, { step: 'appraisal', totp: await g.m2.code() });
    await fileList(rt, co.p, listId, { date: '2026-11-20', reference: '人社档备〔2026〕12号', receipt: Buffer.from('receipt scan'), receiptType: 'image/png' });
    return signList(rt, g.head.p, listId, { step: 'head', totp: await g.head.code() });
  }

  async function start(listId: string, g: Awaited<ReturnType<typeof group>>) {
    return startExecution(ctx.rt, g.s1.p, listId, { supervisors: [{ username: g.s1.p.username, totp: await g.s1.code() }, { username: g.s2.p.username, totp: await g.s2.code() }], method: '密钥粉碎', place: '机房', now: new Date(Date.now() + 8 * DAY) });
  }

  async function keysOf(id: string): Promise<string[]> {
    const it = (await itemModel(ctx.rt.db).findById(id).lean<ItemDoc>())!;
    return [it.originals[0]!.blobKey, it.pages[0]!.imageKey!, it.pages[0]!.textKey!, it.pdfKey!, `items/${id}/thumbs/1.jpg`];
  }

  it('due list: due items only — never permanent, provisional, not yet due, held, or in an open round; --as-of; paged; grouped', async () => {
    const rt = ctx.rt;
    const due = await makeDueItem(rt, { title: '到期A', fonds: 'Z009' });
    const perm = await makeDueItem(rt, { retention: 'Y', dueOn: null, fonds: 'Z009', index: false });
    const prov = await makeDueItem(rt, { provisional: true, fonds: 'Z009', index: false });
    const later = await makeDueItem(rt, { dueOn: '2031-01-01', documentDate: '2020-03-01', fonds: 'Z009', index: false });
    const held = await makeDueItem(rt, { fonds: 'Z009', index: false });
    const due2 = await makeDueItem(rt, { fonds: 'Z009', documentDate: '2011-02-02', index: false });
    const hold = await placeHold(rt, co.p, { name: '劳动争议仲裁', kind: 'dispute', reason: '当事人申请仲裁，相关材料须保全', target: { type: 'items', itemIds: [held] } });
    const ids = async (asOf?: string) => (await dueList(rt, null, { fonds: 'Z009', asOf })).items.map((i) => i.id);
    assert.deepEqual((await ids('2026-12-02')).sort(), [due, due2].sort());
    for (const x of [perm, prov, later, held]) assert.ok(!(await ids('2026-12-02')).includes(x));
    assert.ok((await ids('2031-01-01')).includes(later), '--as-of shows what falls due on a future date');
    assert.ok(!(await ids('2020-12-31')).includes(due), 'not due before its date');
    const p1 = await dueList(rt, null, { fonds: 'Z009', limit: 1 });
    assert.equal(p1.items.length, 1);
    assert.ok(p1.next);
    const p2 = await dueList(rt, null, { fonds: 'Z009', limit: 1, after: p1.next! });
    assert.notEqual(p2.items[0]!.id, p1.items[0]!.id);
    const years = await dueGroups(rt, null, 'year', { fonds: 'Z009' });
    assert.deepEqual(years.groups, [{ key: '2010', count: 1 }, { key: '2011', count: 1 }]);
    // In an open round → off the list.
    const g = await group();
    await openRound(rt, co.p, { title: '在鉴', members: [{ username: g.m1.p.username, capacity: 'archivist' }, { username: g.m2.p.username, capacity: 'agency_leader' }], itemIds: [due2] });
    assert.deepEqual(await ids(), [due]);
    await expectCode(openRound(rt, co.p, { title: '再鉴', members: [{ username: g.m1.p.username, capacity: 'archivist' }, { username: g.m2.p.username, capacity: 'agency_leader' }], itemIds: [due2] }), 'not_appraisable');
    await releaseHold(rt, (await actor(rt, 'head.rel', 'agency_head')).p, hold.id, '仲裁已结案，解除保全');
    assert.ok((await ids()).includes(held), 'released: due again');
  });

  it('a provisional row, a permanent item or a held item never enters a round; nothing is written', async () => {
    const rt = ctx.rt;
    const ok = await makeDueItem(rt, { index: false });
    const prov = await makeDueItem(rt, { provisional: true, index: false });
    const g = await group();
    const before = await appraisalRoundModel(rt.db).countDocuments({});
    await assert.rejects(openRound(rt, co.p, { title: '含暂定', members: [{ username: g.m1.p.username, capacity: 'archivist' }, { username: g.m2.p.username, capacity: 'agency_leader' }], itemIds: [ok, prov] }), (err: any) => {
      assert.equal(err.code, 'not_appraisable');
      assert.deepEqual(err.details.items, [{ itemId: prov, reason: 'provisional_rule' }]);
      return true;
    });
    assert.equal(await appraisalRoundModel(rt.db).countDocuments({}), before);
    assert.equal(await dispositionClaimModel(rt.db).countDocuments({ _id: ok }), 0);
  });

  it('opinions: split → stays; extend → new retention with history; keep → 永久; only members; the report is a PDF kept permanently', async () => {
    const rt = ctx.rt;
    const [split, ext, keep, gone] = [await makeDueItem(rt, { index: false }), await makeDueItem(rt, { index: false }), await makeDueItem(rt, { index: false }), await makeDueItem(rt, { index: false })];
    const g = await group();
    const round = await openRound(rt, co.p, { title: '2026年度第一次鉴定', members: [{ username: g.m1.p.username, capacity: 'archivist' }, { username: g.m2.p.username, capacity: 'hrss_representative' }], itemIds: [split, ext, keep, gone] });
    await expectCode(giveOpinions(rt, g.head.p, round.id, [{ itemId: split, opinion: 'destroy', reason: '无价值' }]), 'forbidden', 'not_a_member');
    await expectCode(giveOpinions(rt, g.m1.p, round.id, [{ itemId: ext, opinion: 'extend', period: 'D10', reason: '不变' }]), 'validation_failed');
    await giveOpinions(rt, g.m1.p, round.id, [
      { itemId: split, opinion: 'destroy', reason: '无价值' },
      { itemId: ext, opinion: 'extend', period: 'D30', reason: '涉及待遇追溯' },
      { itemId: keep, opinion: 'keep', reason: '典型案例' },
      { itemId: gone, opinion: 'destroy', reason: '期满无价值' },
    ]);
    await giveOpinions(rt, g.m2.p, round.id, [
      { itemId: split, opinion: 'keep', reason: '仍有争议' },
      { itemId: ext, opinion: 'extend', years: 20, reason: '待遇追溯期' },
      { itemId: keep, opinion: 'keep', reason: '典型案例' },
      { itemId: gone, opinion: 'destroy', reason: '期满无价值' },
    ]);
    const closed = await closeRound(rt, co.p, round.id);
    assert.deepEqual(closed.outcomes, { destroy: 1, extend: 1, keep: 1, none: 1 });
    const items = itemModel(rt.db);
    const e = (await items.findById(ext).lean<ItemDoc>())!;
    assert.equal((e.classification as any).retention, 'D30');
    assert.ok((e.classification as any).dueOn >= '2041-01-01', 'the longest extension wins');
    assert.equal(e.history.at(-1)!.kind, 'retention.extend');
    assert.equal((e.history.at(-1)!.changes as any).from.retention, 'D10');
    assert.equal(((await items.findById(keep).lean<ItemDoc>())!.classification as any).retention, 'Y');
    const due = (await dueList(rt, null, { limit: 1000 })).items.map((i) => i.id);
    assert.ok(due.includes(split), 'no agreement: stays, due again');
    assert.ok(!due.includes(ext) && !due.includes(keep) && !due.includes(gone));
    const report = await rt.storage.blobs.getBuffer(closed.reportKey!);
    assert.equal(report.subarray(0, 5).toString(), '%PDF-');
    // Closing again is harmless.
    assert.deepEqual((await closeRound(rt, co.p, round.id)).outcomes, closed.outcomes);
  });

  it('separation of duties: the proposer signs nothing, nobody signs twice, the chain goes in order, every signer re-authenticates', async () => {
    const rt = ctx.rt;
    const g = await group();
    const id1 = await makeDueItem(rt, { index: false });
    // The compliance officer proposes and sits in the group too: still may not sign.
    const round = await openRound(rt, co.p, { title: '职责分离', members: [{ username: co.p.username, capacity: 'archivist' }, { username: g.m1.p.username, capacity: 'business_staff' }, { username: g.m2.p.username, capacity: 'agency_leader' }], itemIds: [id1] });
    for (const m of [co, g.m1, g.m2]) await giveOpinions(rt, m.p, round.id, [{ itemId: id1, opinion: 'destroy', reason: '期满无价值' }]);
    await closeRound(rt, co.p, round.id);
    const listId = (await createList(rt, co.p, { roundId: round.id })).id;
    await expectCode(signList(rt, co.p, listId, { step: 'appraisal', totp: NOT_CHECKED }), 'forbidden', 'own_proposal');
    await expectCode(signList(rt, g.m1.p, listId, { step: 'appraisal' }), 'second_factor_required');
    await expectCode(signList(rt, g.m1.p, listId, { step: 'appraisal', totp: '000000' }), 'second_factor_required');
    const code = await g.m1.code();
    await signList(rt, g.m1.p, listId, { step: 'appraisal', totp: code });
    await expectCode(signList(rt, g.m1.p, listId, { step: 'appraisal', totp: NOT_CHECKED }), 'forbidden', 'already_signed');
    await expectCode(signList(rt, g.head.p, listId, { step: 'head', totp: NOT_CHECKED }), 'conflict', 'wrong_stage');
    await expectCode(signList(rt, g.head.p, listId, { step: 'appraisal', totp: NOT_CHECKED }), 'forbidden', 'not_a_member');
    await expectCode(signList(rt, g.m1.p, listId, { step: 'head', totp: NOT_CHECKED }), 'forbidden', 'no_role');
    await signList(rt, g.m2.p, listId, { step: 'appraisal', totp: await g.m2.code() });
    await expectCode(signList(rt, g.head.p, listId, { step: 'head', totp: NOT_CHECKED }), 'conflict', 'wrong_stage');
    await fileList(rt, co.p, listId, { date: '2026-11-20', reference: '人社档备〔2026〕13号' });
    const approved = await signList(rt, g.head.p, listId, { step: 'head', totp: await g.head.code() });
    assert.equal(approved.stage, 'approved');
    assert.ok(approved.executableFrom! > new Date(Date.now() + 6.9 * DAY).toISOString(), 'seven days of cooling-off');
    // Cooling-off: not before.
    await expectCode(startExecution(rt, g.s1.p, listId, { supervisors: [{ username: g.s1.p.username, totp: NOT_CHECKED }, { username: g.s2.p.username, totp: NOT_CHECKED }] }), 'cooling_off');
    const later = new Date(Date.now() + 8 * DAY);
    // Refused before any code is checked: no code is spent.
    const sup = async (a: Actor, b: Actor) => [{ username: a.p.username, totp: NOT_CHECKED }, { username: b.p.username, totp: NOT_CHECKED }];
    await expectCode(startExecution(rt, g.s1.p, listId, { supervisors: await sup(g.s1, co), now: later }), 'forbidden', 'is_proposer');
    await expectCode(startExecution(rt, g.s1.p, listId, { supervisors: await sup(g.s1, g.head), now: later }), 'forbidden', 'is_approver');
    await expectCode(startExecution(rt, g.s1.p, listId, { supervisors: await sup(g.s1, g.s1), now: later }), 'forbidden', 'same_person');
    await expectCode(startExecution(rt, g.head.p, listId, { supervisors: await sup(g.s1, g.s2), now: later }), 'forbidden', 'no_role');
    await expectCode(startExecution(rt, g.s1.p, listId, { supervisors: [{ username: g.s1.p.username, totp: await g.s1.code() }, { username: g.s2.p.username, totp: '123456' }], now: later }), 'second_factor_required');
    await rt.audit.flush();
    const denied = (await rt.audit.list({ limit: 500 })).filter((e: any) => e.outcome === 'denied' && String(e.action).startsWith('disposal'));
    assert.ok(denied.length >= 6, 'refusals are in the audit trail');
  });

  it('an edit after a signature voids every signature and the 备案; a rejected list frees its items', async () => {
    const rt = ctx.rt;
    const g = await group();
    const [a, b] = [await makeDueItem(rt, { index: false }), await makeDueItem(rt, { index: false })];
    const listId = await destroyAgreed([a, b], g);
    await signList(rt, g.m1.p, listId, { step: 'appraisal', totp: await g.m1.code() });
    await signList(rt, g.m2.p, listId, { step: 'appraisal', totp: await g.m2.code() });
    await fileList(rt, co.p, listId, { date: '2026-11-20', reference: '人社档备〔2026〕14号' });
    await expectCode(editList(rt, g.m1.p, listId, { removeItemIds: [b], note: '撤出一件' }), 'forbidden', 'not_proposer');
    const v2 = await editList(rt, co.p, listId, { removeItemIds: [b], note: '该件尚有查考价值，撤出' });
    assert.equal(v2.version, 2);
    assert.equal(v2.stage, 'awaiting_signoffs');
    assert.ok(v2.signatures.every((s) => s.void));
    assert.equal(v2.filing!.void, true);
    assert.deepEqual(v2.rows.map((r) => r.itemId), [a]);
    assert.ok((await dueList(rt, null, { limit: 1000 })).items.some((i) => i.id === b), 'the removed item is free again');
    await expectCode(signList(rt, g.m1.p, listId, { step: 'appraisal', totp: NOT_CHECKED, expectVersion: 1 }), 'conflict');
    await signList(rt, g.m1.p, listId, { step: 'appraisal', totp: await g.m1.code(), expectVersion: 2 });
    const rejected = await cancelList(rt, g.head.p, listId, '依据不足，退回重新鉴定');
    assert.equal(rejected.stage, 'cancelled');
    assert.ok((await dueList(rt, null, { limit: 1000 })).items.some((i) => i.id === a), 'rejected: the item stays and is due again');
    await expectCode(signList(rt, g.m2.p, listId, { step: 'appraisal', totp: NOT_CHECKED }), 'conflict');
  });

  it('destruction: a hold placed after approval stops that item; every blob shredded, index emptied, tombstone; run twice changes nothing; signed certificate verifies, tampering is named', async () => {
    const rt = ctx.rt;
    const g = await group();
    const ids = [await makeDueItem(rt, { title: '待销毁甲' }), await makeDueItem(rt, { title: '待销毁乙' }), await makeDueItem(rt, { title: '待销毁丙', personIds: ['11010519491231002X'] })];
    const keys = new Map<string, string[]>();
    for (const id of ids) keys.set(id, await keysOf(id));
    const listId = await destroyAgreed(ids, g);
    await approve(listId, g);
    const changes: HoldChange[] = [];
    const off = onHoldChange((_rt, c) => void changes.push(c));
    const hold = await placeHold(rt, co.p, { name: '工伤待遇诉讼', kind: 'litigation', reason: '参保人起诉，须保全其全部档案', target: { type: 'person', idNumber: '11010519491231002X' } });
    off();
    assert.deepEqual(changes.map((c) => [c.event, c.itemIds]), [['place', [ids[2]]]]);
    assert.equal(hold.target.label, '110105********002X');
    await start(listId, g);
    await expectCode(runExecution(rt, g.head.p, listId), 'forbidden', 'not_a_supervisor');
    const r1 = await runExecution(rt, g.s1.p, listId);
    assert.equal(r1.destroyed, 2);
    assert.deepEqual(r1.skipped.map((s) => s.itemId), [ids[2]]);
    assert.match(r1.skipped[0]!.reason, /legal_hold/);
    for (const id of ids.slice(0, 2)) {
      assert.deepEqual(await readableBlobs(rt, keys.get(id)!), [], 'every blob of a destroyed item is unreadable');
      const it = (await itemModel(rt.db).findById(id).lean<ItemDoc>())!;
      assert.equal(it.status, 'destroyed');
      assert.equal(it.metadata, null);
      assert.equal(it.originals.length, 0);
      assert.equal((it as any).tombstone.row.archivalCode, (await registerModel(rt.db).findById(id).lean())!.row.archivalCode);
      assert.ok((it as any).tombstone.checksums.length >= 2);
    }
    assert.equal((await readableBlobs(rt, keys.get(ids[2]!)!)).length, 5, 'the held item is untouched');
    const hits = await searchItems(rt, { q: '销毁测试', limit: 50 });
    const hitIds = hits.hits.map((h: any) => h.itemId ?? h.id);
    assert.ok(!hitIds.includes(ids[0]) && !hitIds.includes(ids[1]), 'no search hit for destroyed items');
    const r2 = await runExecution(rt, g.s2.p, listId);
    assert.deepEqual([r2.destroyed, r2.skipped.length, r2.pending], [2, 1, 0], 'running twice changes nothing');

    await expectCode(confirmExecution(rt, g.head.p, listId, { totp: NOT_CHECKED }), 'forbidden', 'not_a_supervisor');
    await confirmExecution(rt, g.s1.p, listId, { totp: await g.s1.code(), note: '已核对' });
    await expectCode(certificateFiles(rt, listId), 'not_found');
    const done = await confirmExecution(rt, g.s2.p, listId, { totp: await g.s2.code() });
    assert.equal(done.stage, 'done');
    const { pdf, p7s } = await certificateFiles(rt, listId);
    const certPem = agencyKey(rt).certPem;
    const good = await verifyCertificate(pdf, p7s, { agencyCertPem: certPem, rt });
    assert.deepEqual(good.problems, []);
    assert.equal(good.ok, true);
    assert.equal(good.items, 2);

    const bad = Buffer.from(pdf);
    const mid = Math.floor(bad.length / 2);
    bad[mid] = bad[mid]! ^ 0x01;
    const c1 = await verifyCertificate(bad, p7s, { agencyCertPem: certPem, rt });
    assert.equal(c1.ok, false);
    assert.ok(c1.problems.some((p) => p.code === 'content_changed'), JSON.stringify(c1.problems));
    const sig = Buffer.from(p7s);
    sig[sig.length - 10] = sig[sig.length - 10]! ^ 0x01;
    const c2 = await verifyCertificate(pdf, sig, { agencyCertPem: certPem, rt });
    assert.deepEqual(c2.problems.map((p) => p.code), ['signature_invalid']);
    assert.deepEqual((await verifyCertificate(pdf, null, { agencyCertPem: certPem })).problems.map((p) => p.code), ['signature_missing']);
    const other = (await openTestRuntime()) as Awaited<ReturnType<typeof openTestRuntime>>;
    try {
      const c3 = await verifyCertificate(pdf, p7s, { agencyCertPem: agencyKey(other.rt).certPem });
      assert.deepEqual(c3.problems.map((p) => p.code), ['wrong_signer']);
    } finally {
      await other.close();
    }
    // The register disagreeing with the certificate (a forged certificate would show here too).
    await registerModel(rt.db).updateOne({ _id: ids[0] }, { $set: { checksums: [{ key: 'x', sha256: '0'.repeat(64) }] } });
    const c4 = await verifyCertificate(pdf, p7s, { agencyCertPem: certPem, rt });
    assert.deepEqual([...new Set(c4.problems.map((p) => p.code))], ['register_mismatch']);
  });

  for (const stage of EXEC_STAGES) {
    it(`a crash after "${stage}" is resumed by running again, with the same end state`, async () => {
      const rt = ctx.rt;
      const g = await group();
      const ids = [await makeDueItem(rt), await makeDueItem(rt)];
      const keys = [...(await keysOf(ids[0]!)), ...(await keysOf(ids[1]!))];
      const listId = await destroyAgreed(ids, g);
      await approve(listId, g);
      await start(listId, g);
      await assert.rejects(runExecution(rt, g.s1.p, listId, { crash: { stage, itemId: ids[0] } }), /simulated crash/);
      const r = await runExecution(rt, g.s1.p, listId);
      assert.deepEqual([r.destroyed, r.skipped.length, r.pending], [2, 0, 0]);
      assert.deepEqual(await readableBlobs(rt, keys), []);
      for (const id of ids) assert.equal((await itemModel(rt.db).findById(id).lean<ItemDoc>())!.status, 'destroyed');
      assert.equal(await registerModel(rt.db).countDocuments({ listId }), 2);
    });
  }

  it('a restore of data from before the destruction does not bring the item back (reapplyDestructions)', async () => {
    const rt = ctx.rt;
    const g = await group();
    const id = await makeDueItem(rt);
    const before = await rt.db.collection('items').findOne({ _id: (await itemModel(rt.db).findById(id, { _id: 1 }).lean())!._id });
    const keys = await keysOf(id);
    const contents = await Promise.all(keys.map((k) => rt.storage.blobs.getBuffer(k)));
    const listId = await destroyAgreed([id], g);
    await approve(listId, g);
    await start(listId, g);
    await runExecution(rt, g.s1.p, listId);
    assert.deepEqual(await readableBlobs(rt, keys), []);
    // "Restore": the old row and the old objects come back (as a backup from before would bring them).
    await rt.db.collection('items').replaceOne({ _id: before!._id }, before!);
    // The database snapshot predates the destruction: its register has no entry either.
    await registerModel(rt.db).deleteOne({ _id: id });
    for (const [i, k] of keys.entries()) await rt.storage.blobs.put(k, contents[i]!);
    assert.equal((await readableBlobs(rt, keys)).length, keys.length);
    const res = await reapplyDestructions(rt);
    assert.ok(res.entries >= 1);
    assert.ok(res.reapplied >= 1);
    assert.deepEqual(await readableBlobs(rt, keys), []);
    assert.equal((await itemModel(rt.db).findById(id).lean<ItemDoc>())!.status, 'destroyed');
    const again = await reapplyDestructions(rt);
    assert.equal(again.reapplied, 0, 'idempotent');
  });

  it('holds: released only by another person; a unit or query hold covers the file', async () => {
    const rt = ctx.rt;
    const id = await makeDueItem(rt, { index: false, category: '9', fonds: 'Z077' });
    const h = await placeHold(rt, co.p, { name: '稽核', kind: 'audit', reason: '年度稽核尚未结束', target: { type: 'query', query: { fonds: 'Z077', category: '9' } } });
    assert.ok(!(await dueList(rt, null, { fonds: 'Z077' })).items.some((i) => i.id === id));
    await expectCode(releaseHold(rt, co.p, h.id, '稽核结束'), 'forbidden', 'own_hold');
    const other = await actor(rt, 'head.rel2', 'agency_head');
    const rel = await releaseHold(rt, other.p, h.id, '稽核已结束');
    assert.equal(rel.active, false);
    await expectCode(releaseHold(rt, other.p, h.id, '再次解除'), 'conflict');
    assert.ok((await dueList(rt, null, { fonds: 'Z077' })).items.some((i) => i.id === id));
  });
});
