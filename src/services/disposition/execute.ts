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
import { pageKeys, STATUS, tombstoneItem, unlinkItem } from '../records';
import { removeItem, removeItems } from '../search';
import { audit, insertOnce, refuse } from './common';
import { holdsAmong } from './holds';
import { approvalChain, factsOf, getList, loadList, type ListView } from './lists';
import { executableFrom, listStage, supervisorRefusal } from './rules';
import { issueCertificate } from './certificate';

/** Where each register entry is kept beside the objects (the database may be restored older than it). */
export const registerKey = (itemId: string) => `disposition/register/${itemId}.json`;

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

async function shredAll(rt: Runtime, keys: string[]): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      try {
        // Approved for destruction: the executor's credential lifts the governance retention the
        // object was written with (a legal hold still refuses, and the item is re-checked first).
        await rt.storage.blobs.shred(key, { bypassGovernance: true });
      } catch (err) {
        if ((err as { code?: string }).code !== 'object_not_found') throw err;
      }
    }),
  );
}

/** Everything stored under the item's prefix too (thumbnails, anything added later). */
async function prefixKeys(rt: Runtime, itemId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of rt.storage.blobs.list(pageKeys.prefix(itemId))) out.push(k);
  return out;
}

interface ItemState {
  row: ListRow;
  item: ItemDoc | null;
  reg: RegisterDoc | null;
  skip: string | null;
  /** the register entry was written in this run, with a fresh listing of the item's prefix */
  fresh?: boolean;
}

/**
 * Runs (or resumes) destruction of a started list: every item not yet done goes through all the
 * stages again (each is idempotent). `crash` simulates a crash for the resumption tests.
 */
export async function runExecution(rt: Runtime, who: Principal, listId: string, opts: { crash?: CrashPoint; batch?: number; onProgress?: (p: { done: number; total: number }) => void } = {}): Promise<RunReport> {
  const object = { type: 'destruction_list', id: listId };
  const exec = await executionModel(rt.db).findById(listId).lean<ExecutionDoc>();
  if (!exec) throw new AppError('conflict', { message: 'Destruction has not been started (two supervisors start it)', zh: '销毁尚未启动（须由两名监销人启动）' });
  if (!exec.supervisors.some((s) => s.userId === who.id)) await refuse(rt, who, 'disposal.execute', object, 'not_a_supervisor', { en: 'Only this list\'s supervisors run its destruction', zh: '只有本清册的监销人可以执行销毁' });
  const ver = (await listVersionModel(rt.db).findById(`${listId}:${exec.version}`).lean<ListVersionDoc>())!;
  const doneIds = new Set((await execItemModel(rt.db).find({ listId }, { itemId: 1 }).lean<ExecItemDoc[]>()).map((d) => d.itemId));
  const todo = ver.rows.filter((r) => !doneIds.has(r.itemId));
  const batchSize = opts.batch ?? 32;
  const actor = { username: who.username, roles: who.roles };
  const crashAfter = (stage: ExecStage, itemId: string) => {
    if (opts.crash && opts.crash.stage === stage && (!opts.crash.itemId || opts.crash.itemId === itemId)) throw new Error(`simulated crash after ${stage} of ${itemId}`);
  };
  const step = (stage: ExecStage, itemId: string, details: Record<string, unknown> = {}) => audit(rt, actor, `disposal.item.${stage}`, { type: 'item', id: itemId }, 'success', { listId, ...details });
  let done = doneIds.size;
  for (let i = 0; i < todo.length; i += batchSize) {
    const rows = todo.slice(i, i + batchSize);
    const items = new Map((await itemModel(rt.db).find({ _id: { $in: rows.map((r) => new Types.ObjectId(r.itemId)) } }).lean<ItemDoc[]>()).map((d) => [String(d._id), d]));
    const regs = new Map((await registerModel(rt.db).find({ _id: { $in: rows.map((r) => r.itemId) } }).lean<RegisterDoc[]>()).map((d) => [d._id, d]));
    const states: ItemState[] = rows.map((row) => ({ row, item: items.get(row.itemId) ?? null, reg: regs.get(row.itemId) ?? null, skip: null }));

    // recheck: a hold or a status change since approval stops the item (unless shredding already began).
    const held = await holdsAmong(rt, states.filter((s) => !s.reg).map((s) => s.row.itemId));
    await Promise.all(
      states.map(async (s) => {
        if (!s.reg) {
          if (!s.item) s.skip = 'item_missing';
          else if (s.item.status !== 'destroyed' && !STATUS.destroyable.has(s.item.status)) s.skip = `status_${s.item.status}`;
          else if (held.has(s.row.itemId)) s.skip = `legal_hold:${held.get(s.row.itemId)!.join(',')}`;
        }
        await step('recheck', s.row.itemId, s.skip ? { skipped: s.skip } : {});
        crashAfter('recheck', s.row.itemId);
      }),
    );
    for (const s of states.filter((x) => x.skip)) {
      await insertOnce(execItemModel(rt.db).create({ _id: `${listId}:${s.row.itemId}`, listId, itemId: s.row.itemId, outcome: 'skipped', reason: s.skip!, at: new Date() }));
      await dispositionClaimModel(rt.db).deleteOne({ _id: s.row.itemId, listId });
      await audit(rt, actor, 'disposal.item.skipped', { type: 'item', id: s.row.itemId }, 'success', { listId, reason: s.skip });
      done++;
    }
    const live = states.filter((s) => !s.skip);

    // register: written once, before anything is shredded; the blob keys come from the item as approved.
    await Promise.all(
      live.map(async (s) => {
        if (!s.reg) {
          const keys = [...new Set([...itemBlobKeys(s.item!), ...(await prefixKeys(rt, s.row.itemId))])];
          const checksums = [{ key: 'contentHash', sha256: s.item!.contentHash }, ...(s.item!.originals ?? []).map((o) => ({ key: o.blobKey, sha256: o.sha256 }))];
          const reg: RegisterDoc = { _id: s.row.itemId, listId, row: s.row, checksums, blobKeys: keys, registeredAt: new Date(), destroyedAt: null };
          // A copy beside the objects: a restore of an older database snapshot still finds it (reapplyDestructions).
          await rt.storage.blobs.put(registerKey(s.row.itemId), Buffer.from(JSON.stringify(reg)), { contentType: 'application/json' });
          if (!(await insertOnce(registerModel(rt.db).create(reg)))) s.reg = await registerModel(rt.db).findById(s.row.itemId).lean<RegisterDoc>();
          else {
            s.reg = reg;
            s.fresh = true;
          }
        }
        await step('register', s.row.itemId, { blobs: s.reg!.blobKeys.length });
        crashAfter('register', s.row.itemId);
      }),
    );

    await Promise.all(
      live.map(async (s) => {
        // A resumed item lists its prefix again: whatever is there now goes too.
        const keys = s.fresh ? s.reg!.blobKeys : [...new Set([...s.reg!.blobKeys, ...(await prefixKeys(rt, s.row.itemId))])];
        await shredAll(rt, keys);
        await step('shred', s.row.itemId, { blobs: keys.length });
        crashAfter('shred', s.row.itemId);
      }),
    );

    await removeItems(rt, live.map((s) => s.row.itemId));
    for (const s of live) {
      await step('unindex', s.row.itemId);
      crashAfter('unindex', s.row.itemId);
    }

    await Promise.all(
      live.map(async (s) => {
        const at = s.reg!.destroyedAt ?? new Date();
        await tombstoneItem(rt, s.row.itemId, { listId, destroyedAt: at.toISOString(), row: s.row as unknown as Record<string, unknown>, checksums: s.reg!.checksums });
        await unlinkItem(rt, s.row.itemId);
        if (!s.reg!.destroyedAt) await registerModel(rt.db).updateOne({ _id: s.row.itemId }, { $set: { destroyedAt: at } });
        await step('tombstone', s.row.itemId);
        crashAfter('tombstone', s.row.itemId);
      }),
    );

    await Promise.all(
      live.map(async (s) => {
        await insertOnce(execItemModel(rt.db).create({ _id: `${listId}:${s.row.itemId}`, listId, itemId: s.row.itemId, outcome: 'destroyed', reason: '', at: new Date() }));
        await dispositionClaimModel(rt.db).deleteOne({ _id: s.row.itemId, listId });
        await step('done', s.row.itemId);
        crashAfter('done', s.row.itemId);
      }),
    );
    done += live.length;
    opts.onProgress?.({ done, total: ver.rows.length });
  }
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
  // Entries the restored database lacks come back from their copies in the object store.
  for await (const key of rt.storage.blobs.list('disposition/register/')) {
    const doc = JSON.parse((await rt.storage.blobs.getBuffer(key)).toString('utf8')) as RegisterDoc & { registeredAt: string; destroyedAt: string | null };
    await insertOnce(regs.create({ ...doc, registeredAt: new Date(doc.registeredAt), destroyedAt: doc.destroyedAt ? new Date(doc.destroyedAt) : null }));
  }
  const total = await regs.countDocuments({});
  let done = 0;
  let reapplied = 0;
  let last: string | null = null;
  for (;;) {
    const batch: RegisterDoc[] = await regs.find(last ? { _id: { $gt: last } } : {}).sort({ _id: 1 }).limit(200).lean<RegisterDoc[]>();
    if (!batch.length) break;
    for (const r of batch) {
      const item = await itemModel(rt.db).findById(r._id, { status: 1, originals: 1, pages: 1, pdfKey: 1 }).lean<ItemDoc>();
      const keys = [...new Set([...r.blobKeys, ...(item ? itemBlobKeys(item) : []), ...(await prefixKeys(rt, r._id))])];
      let live = 0;
      for (const k of keys) if (await rt.storage.blobs.stat(k).then(() => true, () => false)) live++;
      await shredAll(rt, keys);
      await removeItem(rt, r._id);
      if (item && item.status !== 'destroyed') {
        await tombstoneItem(rt, r._id, { listId: r.listId, destroyedAt: (r.destroyedAt ?? r.registeredAt).toISOString(), row: r.row as unknown as Record<string, unknown>, checksums: r.checksums });
        await unlinkItem(rt, r._id);
        live++;
      }
      if (live) reapplied++;
      done++;
    }
    last = batch[batch.length - 1]!._id;
    opts.onProgress?.({ done, total });
  }
  return { entries: total, reapplied };
}
