/**
 * `archive fsck`: the archive's consistency checker. Five checks, run in phases so a large archive
 * can be checked in slices (throttled, resumable from the run record's cursor):
 *
 *   items      every item's referenced blobs exist and authenticate (AES-GCM + recorded SHA-256),
 *              originals match the SHA-256 on the item; items in flight have a live job; filed
 *              items are in the search index with their current 档号, unsearchable ones are not
 *   orphans    blob objects no item references (older than a grace period: a put in progress
 *              writes its object before its item row); index entries of items that do not exist
 *   numbering  档号 ↔ the 件号 rows: every issued number has its item, every code its row, no
 *              duplicates, no gaps except numbers in the withdrawal register
 *   jobs       running jobs whose lease ran out long ago (no worker will pick them up)
 *   audit      the hash chain and its signed checkpoints
 *
 * Every inconsistency is reported with what would be done. `repair` does only the safe things —
 * re-enqueue a pipeline job, reindex or unindex an item, remove an orphan past the grace period,
 * finish shredding a destroyed item's blobs — and audits each one. Anything else (a blob that no
 * longer authenticates, a missing number row) is a person's decision: restore from backup.
 */
import type { ItemDoc } from '../../models/item.model';
import { itemModel } from '../../models/item.model';
import { archivalNumberModel } from '../../models/archival-number.model';
import type { JobDoc } from '../../models/job.model';
import type { Runtime } from '../../runtime';
import { indexItem, searchBackend } from '../search';
import { archivalFormat } from '../records';
import { openRun, STATES, throttle, withdrawnNumbers, type Finding, type RunHandle } from './common';

export const PIPELINE_JOB = 'ocr.item';
export const FSCK_PHASES = ['items', 'orphans', 'numbering', 'jobs', 'audit'] as const;
export type FsckPhase = (typeof FSCK_PHASES)[number];

export interface FsckOptions {
  repair?: boolean;
  /** Orphans younger than this are left alone (a write may be in progress). Default 1 h. */
  orphanGraceMs?: number;
  /** A running job whose lease expired this long ago is stuck. Default 5 min. */
  stuckAfterMs?: number;
  /** Decrypt every referenced blob and compare its SHA-256 (default true); false only checks that it exists. */
  fixity?: boolean;
  /** Items (and orphan candidates) per second; 0 = as fast as possible. Default 0. */
  ratePerSecond?: number;
  /** Only these phases (default all). */
  phases?: FsckPhase[];
  /** Resume the last unfinished fsck run (true) or the given run id. */
  resume?: string | boolean;
  actor?: string;
  role?: string;
  onProgress?: (p: { phase: string; done: number; findings: number }) => void;
}

export interface FsckReport {
  runId: string;
  ok: boolean;
  repaired: number;
  counts: Record<string, number>;
  findings: Finding[];
  ms: number;
}

const BATCH = 50;

function refsOf(item: Pick<ItemDoc, 'originals' | 'pages' | 'pdfKey'>): Array<{ key: string; sha256?: string; what: string }> {
  const refs: Array<{ key: string; sha256?: string; what: string }> = [];
  for (const [i, o] of (item.originals ?? []).entries()) refs.push({ key: o.blobKey, sha256: o.sha256, what: `original ${i + 1}` });
  for (const p of item.pages ?? []) {
    if (p.imageKey) refs.push({ key: p.imageKey, what: `page ${p.n} image` });
    if (p.textKey) refs.push({ key: p.textKey, what: `page ${p.n} text` });
  }
  if (item.pdfKey) refs.push({ key: item.pdfKey, what: 'PDF' });
  return refs;
}

function codeOf(err: unknown): string {
  return typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'internal_error';
}

export async function runFsck(rt: Runtime, opts: FsckOptions = {}): Promise<FsckReport> {
  const started = Date.now();
  const phases = new Set<FsckPhase>(opts.phases ?? FSCK_PHASES);
  const graceMs = opts.orphanGraceMs ?? 60 * 60_000;
  const stuckAfterMs = opts.stuckAfterMs ?? 5 * 60_000;
  const fixity = opts.fixity !== false;
  const actor = opts.actor ?? 'system';
  const run = await openRun(rt.db, 'fsck', {
    trigger: 'manual',
    actor,
    resume: opts.resume,
    options: { repair: !!opts.repair, orphanGraceMs: graceMs, stuckAfterMs, fixity, ratePerSecond: opts.ratePerSecond ?? 0, phases: [...phases] },
  });
  const all: Finding[] = [...((run.doc.findings ?? []) as unknown as Finding[])];
  let repaired = all.filter((f) => f.repaired).length;
  const tick = throttle(opts.ratePerSecond ?? 0);
  const items = itemModel(rt.db);
  const engine = phases.has('items') || phases.has('orphans') ? await searchBackend(rt) : null;
  if (engine) {
    await engine.open();
    await engine.refresh();
  }

  const pending: Finding[] = [];
  const report = async (f: Finding): Promise<void> => {
    if (opts.repair && f.repair) {
      try {
        await applyRepair(rt, f);
        f.repaired = true;
        repaired++;
        await rt.audit.record({ actor, role: opts.role ?? 'system', action: 'integrity.repair', object: { type: f.subject.split(':')[0] ?? 'archive', id: f.subject.slice(f.subject.indexOf(':') + 1) }, outcome: 'success', details: { check: f.check, kind: f.kind, repair: f.repair } });
      } catch (err) {
        f.repaired = false;
        f.repairError = `${codeOf(err)}: ${(err as Error).message}`;
        await rt.audit.record({ actor, role: opts.role ?? 'system', action: 'integrity.repair', object: { type: 'archive', id: f.subject }, outcome: 'failure', details: { check: f.check, kind: f.kind, repair: f.repair, error: f.repairError } });
      }
    }
    run.count(`${f.check}/${f.kind}`);
    pending.push(f);
    all.push(f);
  };
  const flush = async (patch: { phase?: string; cursor?: string | null }) => {
    await run.save({ ...patch, findings: pending.splice(0) });
    opts.onProgress?.({ phase: patch.phase ?? run.doc.phase ?? '', done: Object.values(run.doc.counts ?? {}).length, findings: all.length });
  };

  const startPhase = run.doc.phase as FsckPhase | null;
  const startIdx = startPhase ? FSCK_PHASES.indexOf(startPhase) : 0;
  const fmt = archivalFormat(rt);

  for (const phase of FSCK_PHASES.slice(Math.max(0, startIdx))) {
    if (!phases.has(phase)) continue;
    const resumeCursor = phase === startPhase ? run.doc.cursor : null;
    await flush({ phase, cursor: resumeCursor });

    if (phase === 'items') {
      let cursor = resumeCursor;
      for (;;) {
        const batch = await items
          .find(cursor ? { _id: { $gt: cursor } } : {}, { _id: 1 })
          .sort({ _id: 1 })
          .limit(BATCH)
          .lean<Array<{ _id: unknown }>>();
        if (!batch.length) break;
        for (const { _id } of batch) {
          await tick();
          const item = await items.findById(_id).lean<ItemDoc>();
          if (item) await checkItem(rt, item, { fixity, engine: engine!, report, run, fmt });
          cursor = String(_id);
        }
        await flush({ phase, cursor });
      }
    }

    if (phase === 'orphans') {
      const referenced = new Set<string>(['system/index-key']);
      const known = new Map<string, string>();
      for await (const it of items.find({}, { _id: 1, status: 1, originals: 1, pages: 1, pdfKey: 1 }).lean<ItemDoc[]>().cursor()) {
        known.set(String(it._id), it.status);
        if (STATES.destroyed.has(it.status)) continue;
        for (const r of refsOf(it)) referenced.add(r.key);
      }
      for await (const key of rt.storage.blobs.list('')) {
        if (referenced.has(key)) continue;
        const m = /^items\/([0-9a-f]{24})\//.exec(key);
        if (!m && !key.startsWith('originals/')) continue; // only the pipeline's own prefixes are ours to judge
        await tick();
        run.count('orphans/examined');
        if (m && STATES.destroyed.has(known.get(m[1]!) ?? '')) {
          await report({ check: 'blobs', kind: 'destroyed_not_shredded', subject: `blob:${key}`, severity: 'error', message: `${key} still exists although its item was destroyed`, messageZh: `${key} 所属条目已销毁，但对象仍存在`, action: 'shred it (finishes the destruction)', repair: 'shred_destroyed' });
          continue;
        }
        let createdAt: number;
        try {
          createdAt = Date.parse((await rt.storage.blobs.stat(key)).createdAt);
        } catch {
          continue; // shredded meanwhile
        }
        const old = Date.now() - createdAt > graceMs;
        await report({
          check: 'blobs',
          kind: 'orphan',
          subject: `blob:${key}`,
          severity: old ? 'error' : 'warning',
          message: `${key} is referenced by no item${old ? '' : ' (younger than the grace period: a write may be in progress)'}`,
          messageZh: `${key} 未被任何条目引用${old ? '' : '（尚在宽限期内，可能正在写入）'}`,
          action: old ? 'remove it' : 'none yet (inside the grace period)',
          repair: old ? 'remove_orphan' : null,
        });
      }
      for await (const id of engine!.ids()) {
        if (known.has(id)) continue;
        await report({ check: 'index', kind: 'unknown_item', subject: `item:${id}`, severity: 'error', message: `the search index holds ${id}, which is not an item`, messageZh: `检索索引中有不存在的条目 ${id}`, action: 'remove it from the index', repair: 'unindex' });
      }
      await flush({ phase, cursor: null });
    }

    if (phase === 'numbering') await checkNumbering(rt, report, run);
    if (phase === 'jobs') await checkJobs(rt, stuckAfterMs, report, run);
    if (phase === 'audit') {
      const v = await rt.audit.verify();
      run.count('audit/entries', v.entries);
      if (!v.ok) {
        for (const p of v.problems.slice(0, 100)) {
          await report({ check: 'audit', kind: p.kind, subject: `audit:${p.seq ?? p.id ?? '?'}`, severity: 'error', message: p.message, messageZh: `审计链异常（${p.kind}）：${p.message}`, action: 'none: the trail is evidence; investigate and restore it from a backup', repair: null });
        }
      }
    }
    await flush({ phase, cursor: null });
  }

  const ok = all.every((f) => f.repaired || f.severity !== 'error');
  const done = await run.finish(ok, { repaired });
  return { runId: run.id, ok, repaired, counts: done.counts, findings: all, ms: Date.now() - started };
}

interface ItemCheckCtx {
  fixity: boolean;
  engine: Awaited<ReturnType<typeof searchBackend>>;
  report: (f: Finding) => Promise<void>;
  run: RunHandle;
  fmt: ReturnType<typeof archivalFormat>;
}

async function checkItem(rt: Runtime, item: ItemDoc, c: ItemCheckCtx): Promise<void> {
  const id = String(item._id);
  const subject = `item:${id}`;
  c.run.count('items/checked');
  const destroyed = STATES.destroyed.has(item.status);

  // items ↔ blobs
  if (!destroyed) {
    for (const ref of refsOf(item)) {
      c.run.count('blobs/referenced');
      try {
        if (c.fixity) {
          const v = await rt.storage.blobs.verify(ref.key);
          c.run.count('blobs/verified');
          if (!v.ok) {
            await c.report({ check: 'blobs', kind: 'corrupt', subject, severity: 'error', message: `${ref.what} (${ref.key}) does not authenticate: altered or damaged`, messageZh: `${ref.what}（${ref.key}）校验失败：内容被篡改或损坏`, action: 'none: restore the object from a backup (archive restore)', repair: null });
            continue;
          }
          if (ref.sha256 && v.sha256 !== ref.sha256) {
            await c.report({ check: 'blobs', kind: 'checksum_mismatch', subject, severity: 'error', message: `${ref.what} (${ref.key}): SHA-256 ${v.sha256} differs from the item's ${ref.sha256}`, messageZh: `${ref.what}（${ref.key}）的 SHA-256 与条目记录不符`, action: 'none: restore from a backup', repair: null });
          }
        } else {
          const s = await rt.storage.blobs.stat(ref.key);
          if (ref.sha256 && s.sha256 !== ref.sha256) {
            await c.report({ check: 'blobs', kind: 'checksum_mismatch', subject, severity: 'error', message: `${ref.what} (${ref.key}): SHA-256 ${s.sha256} differs from the item's ${ref.sha256}`, messageZh: `${ref.what}（${ref.key}）的 SHA-256 与条目记录不符`, action: 'none: restore from a backup', repair: null });
          }
        }
      } catch (err) {
        const code = codeOf(err);
        if (code === 'service_unavailable') throw err;
        const inFlight = STATES.inFlight.has(item.status);
        await c.report({
          check: 'blobs',
          kind: code === 'object_shredded' ? 'shredded' : code === 'integrity_error' ? 'corrupt' : 'missing',
          subject,
          severity: 'error',
          message: `${ref.what} (${ref.key}): ${code}`,
          messageZh: `${ref.what}（${ref.key}）无法读取：${code}`,
          action: inFlight && !item.ocrAt && !ref.what.startsWith('original') ? 're-enqueue the item (its capture rewrites derived pages)' : 'none: restore the object from a backup',
          repair: inFlight && !item.ocrAt && !ref.what.startsWith('original') ? 'reenqueue' : null,
        });
      }
    }
  }

  // items ↔ jobs (half-done pipeline work)
  if (STATES.inFlight.has(item.status)) {
    const job = item.jobId ? await rt.queue.get(item.jobId) : null;
    if (!job) {
      await c.report({ check: 'jobs', kind: 'item_without_job', subject, severity: 'error', message: `item ${id} is ${item.status} but has no job`, messageZh: `条目 ${id} 处于 ${item.status} 状态，但没有处理任务`, action: 're-enqueue its pipeline job', repair: 'reenqueue' });
    } else if (['done', 'failed', 'cancelled'].includes(job.state)) {
      await c.report({ check: 'jobs', kind: 'half_filed', subject, severity: 'error', message: `item ${id} is ${item.status} but its job ended (${job.state})`, messageZh: `条目 ${id} 处于 ${item.status} 状态，但其任务已结束（${job.state}）`, action: 'requeue its pipeline job', repair: 'reenqueue' });
    }
  }
  if (item.status === 'filed' && !item.archivalCode) {
    await c.report({ check: 'numbering', kind: 'filed_without_code', subject, severity: 'error', message: `item ${id} is filed without a 档号`, messageZh: `条目 ${id} 已归档但没有档号`, action: 'none: confirm it again through review', repair: null });
  }

  // items ↔ search index
  const entry = await c.engine.indexed(id);
  if (STATES.searchable.has(item.status)) {
    c.run.count('index/expected');
    if (!entry) {
      await c.report({ check: 'index', kind: 'missing', subject, severity: 'error', message: `item ${id} (${item.status}) is not in the search index`, messageZh: `条目 ${id} 未进入检索索引`, action: 'reindex it', repair: 'reindex' });
    } else if ((entry.archivalCode ?? null) !== (item.archivalCode ?? null)) {
      await c.report({ check: 'index', kind: 'stale', subject, severity: 'error', message: `the index has 档号 ${entry.archivalCode ?? '—'} for item ${id}, the item ${item.archivalCode ?? '—'}`, messageZh: `检索索引中条目 ${id} 的档号与条目不符`, action: 'reindex it', repair: 'reindex' });
    }
  } else if (STATES.unsearchable.has(item.status) && entry) {
    await c.report({ check: 'index', kind: 'should_not_be_indexed', subject, severity: 'error', message: `item ${id} is ${item.status} but still in the search index`, messageZh: `条目 ${id} 处于 ${item.status} 状态，但仍在检索索引中`, action: 'remove it from the index', repair: 'unindex' });
  }
  if (item.archivalCode && !c.fmt.validate(item.archivalCode).valid) {
    await c.report({ check: 'numbering', kind: 'invalid_code', subject, severity: 'error', message: `item ${id}: 档号 ${item.archivalCode} does not match the configured template`, messageZh: `条目 ${id} 的档号 ${item.archivalCode} 不符合档号规则`, action: 'none: an archivist corrects it', repair: null });
  }
}

async function checkNumbering(rt: Runtime, report: (f: Finding) => Promise<void>, run: RunHandle): Promise<void> {
  const fmt = archivalFormat(rt);
  const rows = await archivalNumberModel(rt.db).find({}).lean();
  const byItem = new Map<string, { classKey: string; seq: number }[]>();
  const byClass = new Map<string, number[]>();
  for (const r of rows) {
    run.count('numbering/issued');
    (byItem.get(r.itemId) ?? byItem.set(r.itemId, []).get(r.itemId)!).push({ classKey: r.classKey, seq: r.seq });
    (byClass.get(r.classKey) ?? byClass.set(r.classKey, []).get(r.classKey)!).push(r.seq);
  }
  const coded = await itemModel(rt.db).find({ archivalCode: { $ne: null } }, { _id: 1, archivalCode: 1, archivalClass: 1, status: 1 }).lean<ItemDoc[]>();
  const codes = new Map<string, string>();
  const itemIds = new Set((await itemModel(rt.db).find({}, { _id: 1 }).lean()).map((d) => String(d._id)));
  for (const it of coded) {
    const id = String(it._id);
    const subject = `item:${id}`;
    const code = it.archivalCode!;
    const other = codes.get(code);
    if (other) await report({ check: 'numbering', kind: 'duplicate_code', subject, severity: 'error', message: `档号 ${code} is held by items ${other} and ${id}`, messageZh: `档号 ${code} 被条目 ${other} 与 ${id} 重复使用`, action: 'none: an archivist decides which keeps it', repair: null });
    codes.set(code, id);
    const parsed = fmt.parse(code);
    const mine = byItem.get(id) ?? [];
    const row = mine.find((r) => r.classKey === (it.archivalClass ?? parsed?.classKey));
    if (!row) {
      await report({ check: 'numbering', kind: 'code_without_number', subject, severity: 'error', message: `item ${id} carries 档号 ${code} but no 件号 was issued for it`, messageZh: `条目 ${id} 有档号 ${code}，但计数器中没有对应的件号`, action: 'none: the number could be issued twice; an archivist must renumber', repair: null });
    } else if (parsed && parsed.piece !== row.seq) {
      await report({ check: 'numbering', kind: 'code_mismatch', subject, severity: 'error', message: `item ${id}: 档号 ${code} says 件号 ${parsed.piece}, the counter issued ${row.seq}`, messageZh: `条目 ${id} 档号中的件号 ${parsed.piece} 与计数器 ${row.seq} 不符`, action: 'none: an archivist corrects it', repair: null });
    }
  }
  for (const [itemId, mine] of byItem) {
    if (!itemIds.has(itemId)) {
      for (const r of mine) await report({ check: 'numbering', kind: 'number_without_item', subject: `class:${r.classKey}`, severity: 'error', message: `件号 ${r.seq} of ${r.classKey} was issued to item ${itemId}, which does not exist`, messageZh: `${r.classKey} 的件号 ${r.seq} 所属条目 ${itemId} 不存在`, action: 'none: record it in the withdrawal register', repair: null });
    }
  }
  const withdrawn = await withdrawnNumbers(rt);
  for (const [classKey, seqs] of byClass) {
    seqs.sort((a, b) => a - b);
    const out = withdrawn.get(classKey) ?? new Set<number>();
    let expected = 1;
    for (const s of seqs) {
      if (s < expected) {
        await report({ check: 'numbering', kind: 'duplicate_number', subject: `class:${classKey}`, severity: 'error', message: `件号 ${s} of ${classKey} was issued twice`, messageZh: `${classKey} 的件号 ${s} 被重复发放`, action: 'none: an archivist renumbers one item', repair: null });
        continue;
      }
      for (; expected < s; expected++) {
        if (out.has(expected)) continue;
        await report({ check: 'numbering', kind: 'gap', subject: `class:${classKey}`, severity: 'error', message: `件号 ${expected} of ${classKey} is missing and not in the withdrawal register`, messageZh: `${classKey} 缺少件号 ${expected}，且不在撤号登记中`, action: 'none: find the item or register the withdrawal', repair: null });
      }
      expected = s + 1;
    }
  }
}

async function checkJobs(rt: Runtime, stuckAfterMs: number, report: (f: Finding) => Promise<void>, run: RunHandle): Promise<void> {
  const stuck = await rt.queue.jobs.find({ state: 'running', lockedUntil: { $lt: new Date(Date.now() - stuckAfterMs) } }).lean<JobDoc[]>();
  run.count('jobs/running_checked', stuck.length);
  for (const j of stuck) {
    await report({ check: 'jobs', kind: 'stuck', subject: `job:${String(j._id)}`, severity: 'error', message: `job ${String(j._id)} (${j.name}) has been running past its lease since ${j.lockedUntil?.toISOString()}`, messageZh: `任务 ${String(j._id)}（${j.name}）租约已过期仍处于运行状态`, action: 'put it back in the queue', repair: 'requeue_job' });
  }
}

async function applyRepair(rt: Runtime, f: Finding): Promise<void> {
  const id = f.subject.slice(f.subject.indexOf(':') + 1);
  switch (f.repair) {
    case 'reindex':
      return indexItem(rt, id);
    case 'unindex':
      return (await searchBackend(rt)).remove([id]);
    case 'remove_orphan':
      return rt.storage.blobs.shred(id);
    case 'shred_destroyed':
      // The item's destruction was approved and executed (its register entry says so): the lock that
      // protected the object until then is lifted as the executor lifts it (#11 §5).
      return rt.storage.blobs.shred(id, { bypassGovernance: true });
    case 'requeue_job':
      await rt.queue.jobs.updateOne({ _id: id, state: 'running' }, { $set: { state: 'queued', runAt: new Date(), lockedBy: null, lockedUntil: null } });
      return;
    case 'reenqueue': {
      const item = await itemModel(rt.db).findById(id).lean<ItemDoc>();
      if (!item) return;
      const job = await rt.queue.enqueue(PIPELINE_JOB, { itemId: id }, { dedupeKey: `${PIPELINE_JOB}:${id}`, maxAttempts: 5 });
      if (['done', 'failed', 'cancelled'].includes(job.state)) {
        // The dedupe key is unique for good: the ended job is the one to run again, with fresh attempts.
        await rt.queue.jobs.updateOne({ _id: job._id, state: job.state }, { $set: { state: 'queued', runAt: new Date(), attempts: 0, lockedBy: null, lockedUntil: null, lastError: null } });
      }
      if (item.jobId !== String(job._id)) await itemModel(rt.db).updateOne({ _id: item._id }, { $set: { jobId: String(job._id) } });
      return;
    }
    default:
      return;
  }
}
