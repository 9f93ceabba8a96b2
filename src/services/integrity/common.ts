/**
 * What the integrity room's checks share: findings, run records (resumable), throttling, the
 * status sets they reason about, and the optional registers kept by other rooms.
 */
import type { Connection } from 'mongoose';
import { integrityRunModel, type IntegrityKind, type IntegrityRunDoc } from '../../models/integrity.model';
import { ITEM_STATUSES } from '../../models/item.model';
import { STATUS } from '../records';
import type { Runtime } from '../../runtime';

/** One inconsistency, and what a repair would do about it (`repair: null` = nothing is safe to do automatically). */
export interface Finding {
  check: string;
  kind: string;
  /** what it is about: `item:<id>`, `blob:<key>`, `class:<classKey>`, `job:<id>`, `audit` */
  subject: string;
  severity: 'error' | 'warning';
  message: string;
  messageZh: string;
  /** what --repair does, in words (or why a person must act) */
  action: string;
  repair: RepairKind | null;
  repaired?: boolean;
  repairError?: string;
}

export type RepairKind = 'reenqueue' | 'requeue_job' | 'reindex' | 'unindex' | 'remove_orphan' | 'shred_destroyed';

/** Item states, by what the checks expect of them: derived from the records room's status sets. */
const ALL = new Set<string>(ITEM_STATUSES);
const not = (keep: ReadonlySet<string>) => new Set([...ALL].filter((s) => !keep.has(s)));
export const STATES = {
  /** must be in the search index */
  searchable: STATUS.readable as ReadonlySet<string>,
  /** never in the search index */
  unsearchable: not(STATUS.searchable as ReadonlySet<string>),
  /** still being worked on by the pipeline: a live job must exist */
  inFlight: not(STATUS.final as ReadonlySet<string>),
  /** content shredded: no blob may remain */
  destroyed: new Set(['destroyed']) as ReadonlySet<string>,
};

/** Spaces work out to at most `perSecond` units a second (0 = unthrottled). */
export function throttle(perSecond: number): () => Promise<void> {
  if (!perSecond || perSecond <= 0) return async () => undefined;
  const gap = 1000 / perSecond;
  let next = Date.now();
  return async () => {
    const now = Date.now();
    if (next > now) await new Promise((r) => setTimeout(r, next - now));
    next = Math.max(next, now) + gap;
  };
}

export interface RunHandle {
  id: string;
  doc: IntegrityRunDoc;
  /** Saves progress: phase + cursor + counts + new findings (appended). */
  save(patch: { phase?: string | null; cursor?: string | null; findings?: object[] }): Promise<void>;
  finish(ok: boolean, result?: Record<string, unknown> | null, error?: string | null): Promise<IntegrityRunDoc>;
  count(key: string, n?: number): void;
}

/** Starts a run record, or reopens an unfinished one to resume it. */
export async function openRun(
  conn: Connection,
  kind: IntegrityKind,
  opts: { trigger: string; actor: string; options: Record<string, unknown>; resume?: string | boolean },
): Promise<RunHandle> {
  const runs = integrityRunModel(conn);
  let doc: IntegrityRunDoc | null = null;
  if (opts.resume) {
    doc =
      typeof opts.resume === 'string'
        ? await runs.findById(opts.resume).lean<IntegrityRunDoc>()
        : ((await runs.find({ kind, state: 'running' }).sort({ startedAt: -1 }).limit(1).lean<IntegrityRunDoc[]>())[0] ?? null);
    if (doc && (doc.kind !== kind || doc.state !== 'running')) doc = null;
  }
  if (!doc) {
    const created = await runs.create({ kind, trigger: opts.trigger, actor: opts.actor, options: opts.options, state: 'running', phase: null, cursor: null, counts: {}, findings: [] });
    doc = created.toObject() as IntegrityRunDoc;
  }
  const counts: Record<string, number> = { ...(doc.counts ?? {}) };
  const id = doc._id;
  const handle: RunHandle = {
    id: String(id),
    doc,
    count(key, n = 1) {
      counts[key] = (counts[key] ?? 0) + n;
    },
    async save(patch) {
      const set: Record<string, unknown> = { counts, updatedAt: new Date() };
      if (patch.phase !== undefined) set.phase = patch.phase;
      if (patch.cursor !== undefined) set.cursor = patch.cursor;
      const update: Record<string, unknown> = { $set: set };
      if (patch.findings?.length) update.$push = { findings: { $each: patch.findings } };
      await runs.updateOne({ _id: id }, update);
      if (patch.phase !== undefined) handle.doc.phase = patch.phase;
      if (patch.cursor !== undefined) handle.doc.cursor = patch.cursor;
    },
    async finish(ok, result = null, error = null) {
      await runs.updateOne({ _id: id }, { $set: { state: error ? 'failed' : 'done', ok, counts, result, error, finishedAt: new Date(), updatedAt: new Date() } });
      return (await runs.findById(id).lean<IntegrityRunDoc>())!;
    },
  };
  return handle;
}

/** The latest finished run of a kind that passed (for metrics, readiness and the 安全性 check). */
export async function lastGoodRun(conn: Connection, kind: IntegrityKind): Promise<IntegrityRunDoc | null> {
  return (await integrityRunModel(conn).find({ kind, state: 'done', ok: true }).sort({ finishedAt: -1 }).limit(1).lean<IntegrityRunDoc[]>())[0] ?? null;
}

/**
 * 件号 withdrawn on purpose (an item taken out of the archive after it was numbered): gaps there
 * are not inconsistencies. The register belongs to the retention work; until it is on main this
 * reads its collection when present and treats a missing one as empty.
 */
export type WithdrawalRegister = (rt: Runtime) => Promise<Map<string, Set<number>>>;

const WITHDRAWAL_COLLECTIONS = ['number_withdrawals', 'archival_number_withdrawals', 'withdrawals'];

let withdrawalRegister: WithdrawalRegister = async (rt) => {
  const out = new Map<string, Set<number>>();
  const names = new Set((await rt.db.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of WITHDRAWAL_COLLECTIONS) {
    if (!names.has(name)) continue;
    for await (const row of rt.db.collection(name).find({}, { projection: { classKey: 1, seq: 1 } })) {
      const r = row as { classKey?: unknown; seq?: unknown };
      if (typeof r.classKey !== 'string' || typeof r.seq !== 'number') continue;
      if (!out.has(r.classKey)) out.set(r.classKey, new Set());
      out.get(r.classKey)!.add(r.seq);
    }
  }
  return out;
};

/** Lets the retention room plug its register in (called from its wiring once it lands). */
export function useWithdrawalRegister(fn: WithdrawalRegister): void {
  withdrawalRegister = fn;
}

export function withdrawnNumbers(rt: Runtime): Promise<Map<string, Set<number>>> {
  return withdrawalRegister(rt);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
