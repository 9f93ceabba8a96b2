/**
 * Fault injection during destruction (issue #15 §1, destruction mode): N due items with five
 * blobs each, indexed, go through the approval chain; the run is queued as a job (disposal.execute)
 * for the two worker processes while the seeded schedule of harness.ts SIGKILLs the API, each
 * worker, FerretDB and MinIO. Then: every item destroyed (a tombstone, no blob that decrypts, no
 * search hit), one register entry and one execution record each, the job done, the audit chain
 * verified. Seeded and bounded like the ingest mode.
 */
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { executionModel, execItemModel, registerModel } from '../../src/models/disposition.model';
import { itemModel, type ItemDoc } from '../../src/models/item.model';
import type { Runtime } from '../../src/runtime';
import { closeRound, createList, fileList, getList, giveOpinions, openRound, queueExecution, signList, startExecution } from '../../src/services/disposition';
import { runFsck } from '../../src/services/integrity';
import { newOriginalKey, pageKeys } from '../../src/services/records';
import { reindexAll, searchItems } from '../../src/services/search';
import { actor } from '../helpers/disposition';

async function pool<T>(xs: T[], n: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < xs.length) {
      const i = next++;
      await fn(xs[i]!, i);
    }
  }));
}

export interface DestroySetup {
  listId: string;
  ids: string[];
  keys: Map<string, string[]>;
  word: string;
}

/** N filed, due items (five blobs each, indexed) through round, 清册, sign-offs, 备案, approval and a started execution; the run queued. */
export async function prepareDestruction(rt: Runtime, n: number, seed: number, log: (l: string) => void): Promise<DestroySetup> {
  const word = `faultdestroy${seed}`;
  const ids = Array.from({ length: n }, () => new Types.ObjectId());
  const keys = new Map<string, string[]>();
  await pool(ids, 16, async (oid, i) => {
    const id = String(oid);
    const orig = newOriginalKey();
    const put = await rt.storage.blobs.put(orig, Buffer.from(`scan ${i} ${randomUUID()}`));
    const image = pageKeys.image(id, 1, 'png');
    const text = pageKeys.text(id, 1);
    const pdf = pageKeys.pdf(id);
    const thumb = `${pageKeys.prefix(id)}thumbs/1.jpg`;
    await rt.storage.blobs.put(image, Buffer.from(`image ${i}`));
    await rt.storage.blobs.put(text, Buffer.from(JSON.stringify({ text: `失业保险金核定 第${i}号 ${word}`, confidence: 90, lines: [] })));
    await rt.storage.blobs.put(pdf, Buffer.from(`%PDF-1.4 ${i}`));
    await rt.storage.blobs.put(thumb, Buffer.from(`thumb ${i}`));
    keys.set(id, [orig, image, text, pdf, thumb]);
    await itemModel(rt.db).create({
      _id: oid,
      fonds: 'Z001',
      source: 'faults',
      channel: 'api',
      status: 'filed',
      contentHash: `faults-${id}`,
      originals: [{ blobKey: orig, filename: `${i}.png`, format: 'png', size: put.size, sha256: put.sha256 }],
      pages: [{ n: 1, source: 0, imageKey: image, textKey: text }],
      pageCount: 1,
      pdfKey: pdf,
      title: `失业保险待遇核定表 第${i}号`,
      documentDate: '2008-06-01',
      archivalCode: `Z001-SB·2008-D10-SY·DY-${String(i).padStart(5, '0')}`,
      archivalClass: 'Z001-SB·2008-D10-SY·DY',
      classification: { category: '5', item: '5-3', retention: 'D10', dueOn: '2019-01-01', provisional: false },
    });
  });
  await reindexAll(rt);
  log(`  ${n} items stored and indexed`);
  const co = await actor(rt, 'faults.co', 'compliance_officer');
  const m1 = await actor(rt, 'faults.m1', 'appraisal_member');
  const m2 = await actor(rt, 'faults.m2', 'appraisal_member');
  const head = await actor(rt, 'faults.head', 'agency_head');
  const s1 = await actor(rt, 'faults.s1', 'disposal_supervisor');
  const s2 = await actor(rt, 'faults.s2', 'disposal_supervisor');
  const all = ids.map(String);
  const round = await openRound(rt, co.p, { title: '故障注入鉴定', members: [{ username: 'faults.m1', capacity: 'archivist' }, { username: 'faults.m2', capacity: 'business_staff' }], itemIds: all });
  for (const m of [m1, m2]) await giveOpinions(rt, m.p, round.id, all.map((itemId) => ({ itemId, opinion: 'destroy' as const, reason: '保管期满，无查考价值' })));
  await closeRound(rt, co.p, round.id);
  const list = await createList(rt, co.p, { roundId: round.id });
  await signList(rt, m1.p, list.id, { step: 'appraisal', totp: await m1.code() });
  await signList(rt, m2.p, list.id, { step: 'appraisal', totp: await m2.code() });
  await fileList(rt, co.p, list.id, { date: '2026-12-01', reference: '人社档备〔2026〕77号' });
  await signList(rt, head.p, list.id, { step: 'head', totp: await head.code() });
  // As if the cooling-off period (7 days by default) had passed.
  await startExecution(rt, s1.p, list.id, { supervisors: [{ username: 'faults.s1', totp: await s1.code() }, { username: 'faults.s2', totp: await s2.code() }], now: new Date(Date.now() + 8 * 86_400_000) });
  // Small chunks: more stage boundaries for the kills to land between.
  const run = await queueExecution(rt, s1.p, list.id, { batch: 25 });
  log(`  list ${list.id} approved and started; run queued (job ${run.jobId})`);
  return { listId: list.id, ids: all, keys, word };
}

/** Whether the queued run has ended (done or failed for good). */
export async function destructionEnded(rt: Runtime, listId: string): Promise<boolean> {
  const run = (await getList(rt, listId)).execution?.run;
  return run?.state === 'done' || run?.state === 'failed';
}

export interface DestroyCheck {
  destroyed: number;
  notDestroyed: number;
  remnants: number;
  registerEntries: number;
  execRecords: number;
  jobState: string;
  attempts: number;
  auditOk: boolean;
}

export async function checkDestruction(rt: Runtime, s: DestroySetup): Promise<DestroyCheck> {
  const rows = await itemModel(rt.db).find({ _id: { $in: s.ids.map((id) => new Types.ObjectId(id)) } }, { status: 1, metadata: 1, originals: 1, pages: 1 }).lean<ItemDoc[]>();
  const clean = rows.filter((r) => r.status === 'destroyed' && r.metadata === null && !r.originals.length && !r.pages.length).length;
  let remnants = 0;
  await pool(s.ids, 16, async (id) => {
    for (const k of s.keys.get(id)!) if (await rt.storage.blobs.getBuffer(k).then(() => true, () => false)) remnants++;
  });
  remnants += (await searchItems(rt, { q: s.word, limit: 10 })).total;
  const exec = await executionModel(rt.db).findById(s.listId).lean();
  const job = exec?.jobId ? await rt.queue.get(exec.jobId) : null;
  const fsck = await runFsck(rt, { orphanGraceMs: 3600_000, stuckAfterMs: 0 });
  return {
    destroyed: clean,
    notDestroyed: s.ids.length - clean,
    remnants,
    registerEntries: await registerModel(rt.db).countDocuments({ listId: s.listId }),
    execRecords: await execItemModel(rt.db).countDocuments({ listId: s.listId, outcome: 'destroyed' }),
    jobState: job?.state ?? 'none',
    attempts: job?.attempts ?? 0,
    auditOk: !fsck.findings.filter((f) => !f.repaired).some((f) => f.check === 'audit'),
  };
}
