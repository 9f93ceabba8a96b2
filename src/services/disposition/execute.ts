/**
 * Destruction (监销, 3号令 第十二条 ≈ R6; 机关档案管理规定: electronic records destroyed so that they
 * cannot be recovered, backups included ≈ regulations.md §4.3). Two supervisors (监销人), neither
 * the proposer nor an approver, authenticate at the start; the items are destroyed one by one by
 * named idempotent stages (services/pipeline/stage.ts shape), so a crash at any point is resumed
 * by running again and running twice changes nothing; both supervisors confirm at the end, and the
 * signed certificate is issued (certificate.ts).
 *
 * Per item: recheck (hold, status) → register (the permanent destruction register entry, before
 * any blob goes) → shred (crypto-shred every blob keyed to the item: originals, page images, page
 * text, PDF, thumbnails, anything under pageKeys.prefix) → unindex (search index and its caches)
 * → tombstone (the item row keeps only the 清册 fields and checksums) → done. Each stage is
 * audited. An item held after approval is skipped and reported, never destroyed.
 */
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { AppError } from '../../errors';
import {
  confirmationModel,
  dispositionClaimModel,
  execItemModel,
  executionModel,
  listVersionModel,
  registerModel,
  type ExecItemDoc,
  type ExecutionDoc,
  type ListRow,
  type ListVersionDoc,
  type RegisterDoc,
} from '../../models/disposition.model';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { authorize, type Principal } from '../access';
import { pageKeys, STATUS, tombstoneItems } from '../records';
import { removeItems } from '../search';
import { audit, ID, insertOnce, isDup, refuse } from './common';
import { holdsAmong } from './holds';
import { approvalChain, factsOf, getList, loadList, type ListView } from './lists';
import { executableFrom, listStage, supervisorRefusal } from './rules';
import { issueCertificate } from './certificate';

/**
 * Where register entries are kept beside the objects (the database may be restored older than
 * it): a JSON array per chunk of a run (earlier versions wrote one entry per item, as an object;
 * reapplyDestructions reads both).
 */
export const REGISTER_PREFIX = 'disposition/register/';
const registerChunkKey = (listId: string, firstItemId: string) => `${REGISTER_PREFIX}${listId}/${firstItemId}-${randomUUID()}.json`;

export const EXEC_STAGES = ['recheck', 'register', 'shred', 'unindex', 'tombstone', 'done'] as const;
export type ExecStage = (typeof EXEC_STAGES)[number];

/** For tests of resumption: throw right after this stage has completed for this item (a simulated crash). */
export interface CrashPoint {
  stage: ExecStage;
  itemId?: string;
}

export interface SupervisorAuth {
  username: string;
  totp?: string;
  password?: string;
}

/** Starts destruction: after the cooling-off period, with two supervisors who both authenticate now. */
export async function startExecution(rt: Runtime, who: Principal, listId: string, input: { supervisors: SupervisorAuth[]; method?: string; place?: string; now?: Date }): Promise<ListView> {
  const l = await loadList(rt, listId);
  const object = { type: 'destruction_list', id: listId };
  if (!authorize(who, 'destruction.execute').allowed) await refuse(rt, who, 'disposal.execute.start', object, 'no_role', { en: 'Only a 监销人 (disposal supervisor) starts destruction', zh: '须由监销人启动销毁' });
  if (l.execution) throw new AppError('conflict', { message: 'Destruction has already started; run it to resume', zh: '销毁已启动；如中断请继续执行' });
  const chain = approvalChain(rt);
  const f = factsOf(l);
  if (listStage(f, chain) !== 'approved') throw new AppError('conflict', { message: `The list is not approved (${listStage(f, chain)})`, zh: '清册尚未完成审批', details: { stage: listStage(f, chain) } });
  const from = executableFrom(f, chain)!;
  if ((input.now ?? new Date()) < from) throw new AppError('cooling_off', { details: { executableFrom: from.toISOString() } });
  const sups: Array<{ userId: string; username: string }> = [];
  for (const s of input.supervisors ?? []) {
    const u = await rt.auth.findUser(s.username);
    if (!u) throw new AppError('validation_failed', { message: `No account ${s.username}`, zh: `账号 ${s.username} 不存在` });
    sups.push({ userId: String(u._id), username: u.username });
  }
  if (!sups.some((s) => s.userId === who.id)) await refuse(rt, who, 'disposal.execute.start', object, 'not_a_supervisor', { en: 'The person starting destruction is one of the two supervisors', zh: '启动销毁的人须为两名监销人之一' });
  const refusal = supervisorRefusal(f, sups.map((s) => s.userId));
  if (refusal) await refuse(rt, who, 'disposal.execute.start', object, refusal, { en: `Supervisors: ${refusal} (two people, neither the proposer nor an approver)`, zh: '须由两名监销人监销，且不得为清册编制人或审批人' });
  for (const s of sups) {
    const u = (await rt.auth.findUser(s.username))!;
    if (!authorize({ id: s.userId, username: s.username, roles: u.roles, scope: { fonds: '*', agencies: '*', districts: '*' }, clearance: u.clearance }, 'destruction.execute').allowed) {
      await refuse(rt, who, 'disposal.execute.start', object, 'supervisor_without_role', { en: `${s.username} is not a disposal supervisor`, zh: `${s.username} 不是监销人` });
    }
  }
  // Both authenticate at the start (second factor, and the other supervisor's password over the API).
  for (const [i, s] of (input.supervisors ?? []).entries()) await rt.auth.confirmSigner(sups[i]!.userId, { totp: s.totp, password: s.password });
  const doc: ExecutionDoc = { _id: listId, version: l.version.n, supervisors: sups, method: input.method?.trim() || '密钥粉碎（crypto-shred）并删除索引', place: input.place?.trim() ?? '', startedAt: new Date() };
  if (!(await insertOnce(executionModel(rt.db).create(doc)))) throw new AppError('conflict', { message: 'Destruction has already started', zh: '销毁已启动' });
  await audit(rt, who, 'disposal.execute.start', object, 'success', { version: l.version.n, supervisors: sups.map((s) => s.username), method: doc.method, place: doc.place });
  return getList(rt, listId);
}

export interface RunReport {
  listId: string;
  destroyed: number;
  skipped: Array<{ itemId: string; reason: string }>;
  pending: number;
}

/** Where a run is: items finished (destroyed or skipped) of the list's total, and the stage of the chunk at hand. */
export interface ExecProgress {
  done: number;
  total: number;
  stage: ExecStage;
}

function itemBlobKeys(item: ItemDoc): string[] {
  const keys = new Set<string>();
  for (const o of item.originals ?? []) if (o.blobKey) keys.add(o.blobKey);
  for (const p of item.pages ?? []) {
    if (p.imageKey) keys.add(p.imageKey);
    if (p.textKey) keys.add(p.textKey);
  }
  if (item.pdfKey) keys.add(item.pdfKey);
  return [...keys];
}

/**
 * Crypto-shreds the given keys and everything under the items' prefixes (thumbnails, anything
 * added later), all versions, in a few requests for the whole chunk (storage shredMany).
 * Approved for destruction: the executor's credential lifts the governance retention the objects
 * were written with; a legal hold still refuses (and the items were re-checked first).
 */
async function shredItems(rt: Runtime, keys: string[], itemIds: string[]): Promise<number> {
  const r = await rt.storage.blobs.shredMany(keys, { bypassGovernance: true, prefixes: itemIds.map((id) => pageKeys.prefix(id)) });
  return r.shredded.length;
}

/** Everything stored under the item's prefix too (thumbnails, anything added later). */
async function prefixKeys(rt: Runtime, itemId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of rt.storage.blobs.list(pageKeys.prefix(itemId))) out.push(k);
  return out;
}

async function eachLimit<T>(xs: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) await fn(xs[next++]!);
    }),
  );
}

/** Inserts many; documents already there (a resumed run) are left as they are. */
async function insertManyOnce<T>(model: { insertMany: (docs: T[], opts: { ordered: false }) => Promise<unknown> }, docs: T[]): Promise<void> {
  if (!docs.length) return;
  try {
    await model.insertMany(docs, { ordered: false });
  } catch (err) {
    const writeErrors = (err as { writeErrors?: Array<{ code?: number; err?: { code?: number } }> }).writeErrors;
    const dupOnly = Array.isArray(writeErrors) && writeErrors.length > 0 && writeErrors.every((e) => (e.code ?? e.err?.code) === 11000);
    if (!dupOnly && !isDup(err)) throw err;
  }
}

/** Storage requests in flight at once for per-item listings. */
const LIST_CONCURRENCY = 16;
/** Items per chunk: every stage runs for the whole chunk before the next stage starts. */
const DEFAULT_CHUNK = 128;

interface ItemState {
  row: ListRow;
  item: ItemDoc | null;
  reg: RegisterDoc | null;
  skip: string | null;
}

/**
 * Runs (or resumes) destruction of a started list. The items go through the stages by chunks:
 * every stage runs for the whole chunk (one shredMany for all its blobs, one insert of its
 * register entries, …) and is idempotent, so a crash anywhere is resumed by running again: items
 * with an execution record are done; every other item goes through all the stages again (the
 * register entry, once written, is what lets a resumed item skip the recheck: shredding may
 * have begun). `crash` simulates a crash (after the named stage has completed for the chunk that
 * holds the item) for the resumption tests; `signal` stops between stages (a worker whose lease
 * was lost); `onProgress` is awaited, so the caller may record it.
 */
export async function runExecution(
  rt: Runtime,
  who: Principal,
  listId: string,
  opts: { crash?: CrashPoint; batch?: number; signal?: AbortSignal; onProgress?: (p: ExecProgress) => void | Promise<void> } = {},
): Promise<RunReport> {
  const object = { type: 'destruction_list', id: listId };
  const exec = await executionModel(rt.db).findById(listId).lean<ExecutionDoc>();
  if (!exec) throw new AppError('conflict', { message: 'Destruction has not been started (two supervisors start it)', zh: '销毁尚未启动（须由两名监销人启动）' });
  if (!exec.supervisors.some((s) => s.userId === who.id)) await refuse(rt, who, 'disposal.execute', object, 'not_a_supervisor', { en: 'Only this list\'s supervisors run its destruction', zh: '只有本清册的监销人可以执行销毁' });
  const ver = (await listVersionModel(rt.db).findById(`${listId}:${exec.version}`).lean<ListVersionDoc>())!;
  const doneIds = new Set((await execItemModel(rt.db).find({ listId }, { itemId: 1 }).lean<ExecItemDoc[]>()).map((d) => d.itemId));
  const todo = ver.rows.filter((r) => !doneIds.has(r.itemId));
  const chunkSize = Math.max(1, opts.batch ?? DEFAULT_CHUNK);
  const actor = { username: who.username, roles: who.roles };
  const total = ver.rows.length;
  let done = doneIds.size;
  // Progress is written one report after another, each with the figures current when it is sent:
  // the trailing chunk reports its items as done when they are (the console's count does not wait
  // for the next chunk's next stage), and an older figure never lands after a newer one.
  let reported: Promise<void> = Promise.resolve();
  const sendProgress = (p: () => ExecProgress): Promise<void> => (reported = reported.then(async () => { await opts.onProgress?.(p()); }));
  const progress = async (current: ExecStage) => {
    opts.signal?.throwIfAborted();
    await sendProgress(() => ({ done, total, stage: current }));
  };
  const crashAfter = (stage: ExecStage, states: ItemState[]) => {
    if (opts.crash && opts.crash.stage === stage && states.some((s) => !opts.crash!.itemId || opts.crash!.itemId === s.row.itemId)) throw new Error(`simulated crash after ${stage} of ${opts.crash.itemId ?? states[0]!.row.itemId}`);
  };
  // One audit entry per item and stage (the trail batches its appends).
  const steps = (stage: ExecStage, states: ItemState[], details: (s: ItemState) => Record<string, unknown> = () => ({})) =>
    Promise.all(states.map((s) => audit(rt, actor, `disposal.item.${stage}`, { type: 'item', id: s.row.itemId }, 'success', { listId, ...details(s) })));

  // The last three stages of a chunk (unindex, tombstone, done: database writes) run while the
  // next chunk is rechecked, registered and shredded (mostly the object store), so neither server
  // waits for the other. Each item still goes through its stages in order, at most two chunks are
  // in flight, and a failure in either stops the run only after the other has settled, so a crash
  // leaves each chunk at a stage boundary, as before. Only the leading chunk reports its stage;
  // the trailing one adds to `done` when it ends.
  let trailing: Promise<Error | null> | null = null;
  let stage: ExecStage = 'recheck';
  const settleTrailing = async () => {
    if (!trailing) return;
    const t = trailing;
    trailing = null;
    const err = await t;
    if (err) throw err;
  };
  const finishChunk = async (live: ItemState[]) => {
    await removeItems(rt, live.map((s) => s.row.itemId));
    await steps('unindex', live);
    crashAfter('unindex', live);

    const at = new Date();
    await tombstoneItems(
      rt,
      live.map((s) => ({ itemId: s.row.itemId, tombstone: { listId, destroyedAt: (s.reg!.destroyedAt ?? at).toISOString(), row: s.row as unknown as Record<string, unknown>, checksums: s.reg!.checksums } })),
    );
    await registerModel(rt.db).updateMany({ _id: { $in: live.filter((s) => !s.reg!.destroyedAt).map((s) => s.row.itemId) } }, { $set: { destroyedAt: at } });
    await steps('tombstone', live);
    crashAfter('tombstone', live);

    await insertManyOnce(execItemModel(rt.db), live.map((s) => ({ _id: `${listId}:${s.row.itemId}`, listId, itemId: s.row.itemId, outcome: 'destroyed' as const, reason: '', at: new Date() })));
    await dispositionClaimModel(rt.db).deleteMany({ _id: { $in: live.map((s) => s.row.itemId) }, listId });
    await steps('done', live);
    crashAfter('done', live);
    done += live.length;
    await sendProgress(() => ({ done, total, stage }));
  };
  try {
    for (let i = 0; i < todo.length; i += chunkSize) {
      const rows = todo.slice(i, i + chunkSize);
      await progress((stage = 'recheck'));
      const items = new Map(
        (await itemModel(rt.db).find({ _id: { $in: rows.map((r) => new Types.ObjectId(r.itemId)) } }, { status: 1, originals: 1, pages: 1, pdfKey: 1, contentHash: 1 }).lean<ItemDoc[]>()).map((d) => [String(d._id), d]),
      );
      const regs = new Map((await registerModel(rt.db).find({ _id: { $in: rows.map((r) => r.itemId) } }).lean<RegisterDoc[]>()).map((d) => [d._id, d]));
      const states: ItemState[] = rows.map((row) => ({ row, item: items.get(row.itemId) ?? null, reg: regs.get(row.itemId) ?? null, skip: null }));

      // recheck: a hold or a status change since approval stops the item (unless shredding already began).
      const held = await holdsAmong(rt, states.filter((s) => !s.reg).map((s) => s.row.itemId));
      for (const s of states) {
        if (s.reg) continue;
        if (!s.item) s.skip = 'item_missing';
        else if (s.item.status !== 'destroyed' && !STATUS.destroyable.has(s.item.status)) s.skip = `status_${s.item.status}`;
        else if (held.has(s.row.itemId)) s.skip = `legal_hold:${held.get(s.row.itemId)!.join(',')}`;
      }
      await steps('recheck', states, (s) => (s.skip ? { skipped: s.skip } : {}));
      crashAfter('recheck', states);
      const skipped = states.filter((x) => x.skip);
      if (skipped.length) {
        await insertManyOnce(execItemModel(rt.db), skipped.map((s) => ({ _id: `${listId}:${s.row.itemId}`, listId, itemId: s.row.itemId, outcome: 'skipped' as const, reason: s.skip!, at: new Date() })));
        await dispositionClaimModel(rt.db).deleteMany({ _id: { $in: skipped.map((s) => s.row.itemId) }, listId });
        await Promise.all(skipped.map((s) => audit(rt, actor, 'disposal.item.skipped', { type: 'item', id: s.row.itemId }, 'success', { listId, reason: s.skip })));
        done += skipped.length;
      }
      const live = states.filter((s) => !s.skip);
      if (!live.length) continue;

      // register: written once, before anything is shredded; the blob keys come from the item as approved.
      await progress((stage = 'register'));
      const fresh = live.filter((s) => !s.reg);
      if (fresh.length) {
        const now = new Date();
        const entries: RegisterDoc[] = [];
        await eachLimit(fresh, LIST_CONCURRENCY, async (s) => {
          const keys = [...new Set([...itemBlobKeys(s.item!), ...(await prefixKeys(rt, s.row.itemId))])];
          const checksums = [{ key: 'contentHash', sha256: s.item!.contentHash }, ...(s.item!.originals ?? []).map((o) => ({ key: o.blobKey, sha256: o.sha256 }))];
          entries.push({ _id: s.row.itemId, listId, row: s.row, checksums, blobKeys: keys, registeredAt: now, destroyedAt: null });
        });
        // A copy beside the objects, one per chunk: a restore of an older database snapshot still
        // finds the entries (reapplyDestructions). Written before the database entries, so every
        // entry the database has is in the object store too.
        await rt.storage.blobs.put(registerChunkKey(listId, entries[0]!._id), Buffer.from(JSON.stringify(entries)), { contentType: 'application/json' });
        await insertManyOnce(registerModel(rt.db), entries);
        // An entry already there (written by a run that crashed) is the one that counts.
        const stored = new Map((await registerModel(rt.db).find({ _id: { $in: fresh.map((s) => s.row.itemId) } }).lean<RegisterDoc[]>()).map((d) => [d._id, d]));
        for (const s of fresh) s.reg = stored.get(s.row.itemId) ?? null;
      }
      await steps('register', live, (s) => ({ blobs: s.reg!.blobKeys.length }));
      crashAfter('register', live);

      // shred: the registered keys, the item's current keys and everything under its prefix, for the whole chunk at once.
      await progress((stage = 'shred'));
      const keys = [...new Set(live.flatMap((s) => [...s.reg!.blobKeys, ...(s.item ? itemBlobKeys(s.item) : [])]))];
      const shredded = await shredItems(rt, keys, live.map((s) => s.row.itemId));
      await steps('shred', live, (s) => ({ blobs: s.reg!.blobKeys.length }));
      void shredded;
      crashAfter('shred', live);

      await settleTrailing();
      await progress((stage = 'unindex'));
      trailing = finishChunk(live).then(
        () => null,
        (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
      );
    }
    await settleTrailing();
  } finally {
    // A failure of the leading chunk: let the trailing one end (its writes are a stage boundary
    // apart), report where the run stands, and pass the first failure on.
    if (trailing) {
      await trailing;
      await sendProgress(() => ({ done, total, stage })).catch(() => undefined);
    }
  }
  await sendProgress(() => ({ done, total, stage: 'done' }));
  const all = await execItemModel(rt.db).find({ listId }).lean<ExecItemDoc[]>();
  const report: RunReport = { listId, destroyed: all.filter((d) => d.outcome === 'destroyed').length, skipped: all.filter((d) => d.outcome === 'skipped').map((d) => ({ itemId: d.itemId, reason: d.reason })), pending: ver.rows.length - all.length };
  await audit(rt, who, 'disposal.execute', object, 'success', { destroyed: report.destroyed, skipped: report.skipped.length, pending: report.pending });
  return report;
}

/** A supervisor confirms the end (second factor again). When both have, the certificate is issued. */
export async function confirmExecution(rt: Runtime, who: Principal, listId: string, input: { totp?: string; password?: string; note?: string }): Promise<ListView> {
  const object = { type: 'destruction_list', id: listId };
  const exec = await executionModel(rt.db).findById(listId).lean<ExecutionDoc>();
  if (!exec) throw new AppError('conflict', { message: 'Destruction has not been started', zh: '销毁尚未启动' });
  if (!exec.supervisors.some((s) => s.userId === who.id)) await refuse(rt, who, 'disposal.confirm', object, 'not_a_supervisor', { en: 'Only this list\'s supervisors confirm', zh: '只有本清册的监销人可以确认' });
  const v = await getList(rt, listId);
  if (v.execution!.pending > 0) throw new AppError('conflict', { message: `${v.execution!.pending} item(s) not processed yet; run the destruction to the end first`, zh: `尚有 ${v.execution!.pending} 件未处理，请先执行完毕` });
  await rt.auth.confirmSigner(who.id, { totp: input.totp, password: input.password });
  if (!(await insertOnce(confirmationModel(rt.db).create({ _id: `${listId}:${who.id}`, listId, userId: who.id, username: who.username, note: input.note?.trim() ?? '', at: new Date() })))) throw new AppError('conflict', { message: 'You have already confirmed', zh: '您已确认' });
  await audit(rt, who, 'disposal.confirm', object, 'success', { destroyed: v.execution!.destroyed, skipped: v.execution!.skipped });
  const confirmed = await confirmationModel(rt.db).countDocuments({ listId });
  if (confirmed >= 2) await issueCertificate(rt, listId);
  return getList(rt, listId);
}

/**
 * Re-applies every destruction in the permanent register: shreds the blobs again, takes the items
 * out of the index and writes their tombstones. A restore calls it after bringing back data from a
 * backup, so a backup taken before a destruction never brings an item back. Idempotent.
 */
export async function reapplyDestructions(rt: Runtime, opts: { onProgress?: (p: { done: number; total: number }) => void } = {}): Promise<{ entries: number; reapplied: number }> {
  const regs = registerModel(rt.db);
  // Entries the restored database lacks come back from their copies in the object store (an
  // array per chunk of a run; a single entry in copies written before chunks).
  for await (const key of rt.storage.blobs.list(REGISTER_PREFIX)) {
    const parsed = JSON.parse((await rt.storage.blobs.getBuffer(key)).toString('utf8')) as unknown;
    const docs = (Array.isArray(parsed) ? parsed : [parsed]) as Array<RegisterDoc & { registeredAt: string; destroyedAt: string | null }>;
    await insertManyOnce(regs, docs.map((doc) => ({ ...doc, registeredAt: new Date(doc.registeredAt), destroyedAt: doc.destroyedAt ? new Date(doc.destroyedAt) : null })));
  }
  const total = await regs.countDocuments({});
  let done = 0;
  let reapplied = 0;
  let last: string | null = null;
  for (;;) {
    const batch: RegisterDoc[] = await regs.find(last ? { _id: { $gt: last } } : {}).sort({ _id: 1 }).limit(200).lean<RegisterDoc[]>();
    if (!batch.length) break;
    const items = new Map(
      (await itemModel(rt.db).find({ _id: { $in: batch.filter((r) => ID.test(r._id)).map((r) => new Types.ObjectId(r._id)) } }, { status: 1, originals: 1, pages: 1, pdfKey: 1 }).lean<ItemDoc[]>()).map((d) => [String(d._id), d]),
    );
    const keysOf = new Map(batch.map((r) => [r._id, new Set([...r.blobKeys, ...(items.has(r._id) ? itemBlobKeys(items.get(r._id)!) : [])])]));
    const { shredded } = await rt.storage.blobs.shredMany([...new Set([...keysOf.values()].flatMap((k) => [...k]))], { bypassGovernance: true, prefixes: batch.map((r) => pageKeys.prefix(r._id)) });
    const live = new Set<string>();
    for (const k of shredded) {
      for (const r of batch) if (keysOf.get(r._id)!.has(k) || k.startsWith(pageKeys.prefix(r._id))) live.add(r._id);
    }
    await removeItems(rt, batch.map((r) => r._id));
    const back = batch.filter((r) => items.has(r._id) && items.get(r._id)!.status !== 'destroyed');
    await tombstoneItems(rt, back.map((r) => ({ itemId: r._id, tombstone: { listId: r.listId, destroyedAt: (r.destroyedAt ?? r.registeredAt).toISOString(), row: r.row as unknown as Record<string, unknown>, checksums: r.checksums } })));
    for (const r of back) live.add(r._id);
    reapplied += live.size;
    done += batch.length;
    last = batch[batch.length - 1]!._id;
    opts.onProgress?.({ done, total });
  }
  return { entries: total, reapplied };
}
