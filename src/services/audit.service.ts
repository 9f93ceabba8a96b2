/**
 * The tamper-evident audit trail. Other modules make ONE call: `rt.audit.record({...})`.
 *
 * Each entry carries server time, a unique seq (1, 2, 3…) and the SHA-256 of the previous
 * entry; its own hash is the SHA-256 of its canonical JSON. Every few thousand entries (and at
 * least once a minute while entries arrive) a checkpoint {seq, hash, time} is signed with the
 * system's audit signing key. verify() recomputes everything and names the first entry that was
 * altered, removed or slipped in.
 *
 * Appends are batched: record() queues the entry and a single appender per process flushes the
 * queue every few milliseconds as one insertMany of consecutive seqs. Seqs are exclusive because
 * `_id` is the seq and FerretDB makes a unique-key insert atomic (its conditional updates are
 * not). When another process took a seq first, the insert fails with 11000; the appender finds
 * the new tail, renumbers what is left of its batch, re-chains it, and tries again.
 */
import crypto from 'node:crypto';
import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import {
  auditCheckpointModel,
  auditEntryModel,
  auditHeadModel,
  seqId,
  SEQ_WIDTH,
  type AuditCheckpointDoc,
  type AuditEntryDoc,
  type AuditHeadDoc,
} from '../models/audit.model';
import type { AuditSigner } from './audit-signing';

export const AUDIT_OUTCOMES = ['success', 'denied', 'failure'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditInput {
  /** username, or 'system' / 'anonymous' */
  actor: string;
  /** the role(s) the actor acted under */
  role?: string | null;
  ip?: string | null;
  /** e.g. 'item.read', 'auth.login', 'destruction.approve' */
  action: string;
  object?: { type: string; id: string } | null;
  outcome: AuditOutcome;
  details?: Record<string, unknown>;
}

/** What is hashed: every field, in canonical JSON. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  role: string | null;
  ip: string | null;
  action: string;
  object: { type: string; id: string } | null;
  outcome: AuditOutcome;
  details: Record<string, unknown>;
  prev: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level, so the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

export function sha256Hex(s: string): string {
  return crypto.createHash('sha256').update(s, 'utf8').digest('hex');
}

export function checkpointPayload(seq: number, hash: string, at: Date): string {
  return `si-archive audit checkpoint\nseq=${seq}\nhash=${hash}\nat=${at.toISOString()}`;
}

export type AuditProblemKind =
  | 'altered' // the entry's content no longer matches its hash
  | 'missing' // a seq with no entry
  | 'inserted' // a document that is not a member of the sequence
  | 'chain_broken' // the entry is not the one its successor chained to (replaced or slipped in, hash recomputed)
  | 'checkpoint_mismatch' // the chain at a signed checkpoint differs from what was signed (rewritten)
  | 'bad_signature'; // a checkpoint whose signature does not verify with our certificate

export interface AuditProblem {
  kind: AuditProblemKind;
  seq: number | null;
  id?: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  lastSeq: number;
  checkpoints: number;
  lastCheckpointSeq: number;
  /** entries after the last signed checkpoint: their chain holds, but no signature covers them yet */
  unsignedTail: number;
  first: AuditProblem | null;
  problems: AuditProblem[];
  ms: number;
}

export interface ListFilter {
  actor?: string;
  action?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

export interface ListedEntry extends AuditEntry {
  hash: string;
  /** the stored document disagrees with itself: run verify */
  suspect: boolean;
}

export interface AuditOptions {
  signer: AuditSigner;
  logger: Logger;
  /** how long record() waits for company before a flush */
  flushMs?: number;
  maxBatch?: number;
  checkpointEvery?: number;
  checkpointIntervalMs?: number;
  /** names this process's head hint */
  appenderId?: string;
}

interface Pending {
  input: AuditInput;
  at: Date;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const ID_RE = new RegExp(`^\\d{${SEQ_WIDTH}}$`);
const MAX_PROBLEMS = 100;

function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number; err?: { code?: number } }> };
  return e?.code === 11000 || (Array.isArray(e?.writeErrors) && e.writeErrors.some((w) => (w.code ?? w.err?.code) === 11000));
}

function validate(input: AuditInput): void {
  const bad = (what: string) => {
    throw new AppError('validation_failed', { message: `audit.record: ${what}`, zh: `审计记录参数不正确：${what}` });
  };
  if (!input || typeof input !== 'object') bad('input must be an object');
  if (typeof input.actor !== 'string' || !input.actor) bad('actor is required');
  if (typeof input.action !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/.test(input.action)) bad('action must look like "item.read"');
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(input.outcome)) bad(`outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  if (input.object && (typeof input.object.type !== 'string' || typeof input.object.id !== 'string')) bad('object must be {type, id} strings');
}

export class AuditTrail {
  readonly entries: Model<AuditEntryDoc>;
  readonly checkpoints: Model<AuditCheckpointDoc>;
  private readonly heads: Model<AuditHeadDoc>;
  private readonly signer: AuditSigner;
  private readonly logger: Logger;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly appenderId: string;

  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private tail: { seq: number; hash: string } | undefined;
  private lastCheckpoint = { seq: 0, at: Date.now() };
  private lastHeadWrite = 0;
  private closed = false;

  constructor(conn: Connection, opts: AuditOptions) {
    this.entries = auditEntryModel(conn);
    this.checkpoints = auditCheckpointModel(conn);
    this.heads = auditHeadModel(conn);
    this.signer = opts.signer;
    this.logger = opts.logger;
    this.flushMs = opts.flushMs ?? 10;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.checkpointEvery = opts.checkpointEvery ?? 10_000;
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? 60_000;
    this.appenderId = opts.appenderId ?? `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  }

  /**
   * Appends one entry. Returns at once with a promise that settles when the entry is stored;
   * await it where the action must not proceed unaudited, otherwise let it run (failures are
   * logged). Time is the server's, taken here.
   */
  record(input: AuditInput): Promise<void> {
    try {
      validate(input);
      if (this.closed) throw new AppError('service_unavailable', { message: 'The audit trail is closed' });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ input, at: new Date(), resolve, reject });
      this.schedule();
    });
  }

  /** Stores everything queued so far. */
  async flush(): Promise<void> {
    while (this.pending.length || this.flushing) {
      if (this.flushing) await this.flushing.catch(() => undefined);
      else await this.runFlush();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.flush();
    if (this.tail && this.tail.seq > this.lastCheckpoint.seq) await this.checkpoint().catch((err: unknown) => this.logger.warn({ err }, 'final audit checkpoint failed'));
    if (this.tail) await this.writeHead(true).catch(() => undefined);
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush picks the queue up when it ends
    if (this.pending.length >= this.maxBatch) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.runFlush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.runFlush();
      }, this.flushMs);
    }
  }

  private runFlush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.pending.splice(0, this.maxBatch);
    if (!batch.length) return Promise.resolve();
    this.flushing = this.append(batch)
      .then(
        () => batch.forEach((p) => p.resolve()),
        (err: unknown) => {
          // Not the error object itself: a bulk-write error carries every document of the batch.
          const e = err as { message?: string; code?: unknown };
          this.logger.error({ error: e?.message ?? String(err), code: e?.code, entries: batch.length }, 'audit entries could not be stored');
          batch.forEach((p) => p.reject(err));
        },
      )
      .then(() => this.afterFlush())
      .finally(() => {
        this.flushing = undefined;
        if (this.pending.length) this.schedule();
      });
    return this.flushing;
  }

  private async afterFlush(): Promise<void> {
    if (!this.tail) return;
    const due = this.tail.seq - this.lastCheckpoint.seq >= this.checkpointEvery || (this.tail.seq > this.lastCheckpoint.seq && Date.now() - this.lastCheckpoint.at >= this.checkpointIntervalMs);
    try {
      if (due) await this.signTail();
      await this.writeHead(false);
    } catch (err) {
      this.logger.warn({ err }, 'audit checkpoint or head hint failed');
    }
  }

  private async writeHead(force: boolean): Promise<void> {
    if (!this.tail || (!force && Date.now() - this.lastHeadWrite < 250)) return;
    this.lastHeadWrite = Date.now();
    await this.heads.updateOne({ _id: this.appenderId }, { $set: { seq: this.tail.seq, hash: this.tail.hash, at: new Date() } }, { upsert: true });
  }

  private build(batch: Pending[], from: { seq: number; hash: string }): AuditEntryDoc[] {
    let prev = from.hash;
    return batch.map((p, i) => {
      const entry: AuditEntry = {
        seq: from.seq + 1 + i,
        at: p.at.toISOString(),
        actor: p.input.actor,
        role: p.input.role ?? null,
        ip: p.input.ip ?? null,
        action: p.input.action,
        object: p.input.object ? { type: p.input.object.type, id: p.input.object.id } : null,
        outcome: p.input.outcome,
        // A JSON round trip keeps only what survives storage, so the hash still matches on read.
        details: p.input.details ? (JSON.parse(JSON.stringify(p.input.details)) as Record<string, unknown>) : {},
        prev,
      };
      const e = canonicalJson(entry);
      const h = sha256Hex(e);
      prev = h;
      return { _id: seqId(entry.seq), e, h, actor: entry.actor, action: entry.action, at: p.at };
    });
  }

  private async append(batch: Pending[]): Promise<void> {
    let rest = batch;
    for (let attempt = 0; rest.length; attempt++) {
      if (attempt > 200) throw new AppError('service_unavailable', { message: 'Could not append to the audit trail: too much contention' });
      const from = this.tail ?? (await this.findTail());
      const docs = this.build(rest, from);
      try {
        await this.entries.insertMany(docs, { ordered: true, lean: true });
        const last = docs[docs.length - 1]!;
        this.tail = { seq: from.seq + docs.length, hash: last.h };
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Another appender got there first. Keep whatever of ours did land (an ordered insert
        // stores a prefix), then continue after the real tail.
        const stored = await this.entries.find({ _id: { $in: docs.map((d) => d._id) } }, { _id: 1, e: 1, h: 1 }).lean<AuditEntryDoc[]>();
        const mine = new Set(stored.filter((s) => docs.some((d) => d._id === s._id && d.e === s.e)).map((s) => s._id));
        let landed = 0;
        while (landed < docs.length && mine.has(docs[landed]!._id)) landed++;
        if (landed) this.tail = { seq: from.seq + landed, hash: docs[landed - 1]!.h };
        rest = rest.slice(landed);
        this.tail = await this.findTail(this.tail ?? from);
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  private async hashAt(seq: number): Promise<string | undefined> {
    if (seq === 0) return GENESIS_HASH;
    const doc = await this.entries.findOne({ _id: seqId(seq) }, { h: 1 }).lean<AuditEntryDoc>();
    return doc?.h;
  }

  /**
   * The last stored entry. Starts from a known position (our own, or the best head hint) and
   * gallops forward by _id lookups, which FerretDB answers from the key, instead of sorting
   * the whole collection.
   */
  private async findTail(known?: { seq: number; hash: string }): Promise<{ seq: number; hash: string }> {
    let base = known;
    if (!base) {
      const heads = await this.heads.find({}).lean<AuditHeadDoc[]>();
      const cps = await this.checkpoints.find({}).sort({ seq: -1 }).limit(1).lean<AuditCheckpointDoc[]>();
      const hints = [...heads.map((h) => h.seq), ...cps.map((c) => c.seq)].sort((a, b) => b - a);
      for (const seq of hints) {
        const hash = await this.hashAt(seq);
        if (hash) {
          base = { seq, hash };
          break;
        }
      }
      base ??= { seq: 0, hash: GENESIS_HASH };
      const cp = cps[0];
      if (cp && cp.seq > this.lastCheckpoint.seq) this.lastCheckpoint = { seq: cp.seq, at: cp.at.getTime() };
    }
    let lo = base.seq;
    let step = 1;
    while (await this.hashAt(lo + step)) {
      lo += step;
      step *= 2;
    }
    let hi = lo + step; // known missing
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.hashAt(mid)) lo = mid;
      else hi = mid;
    }
    const hash = lo === base.seq ? base.hash : await this.hashAt(lo);
    if (!hash) throw new AppError('integrity_error', { message: `Audit entry ${lo} vanished while finding the tail` });
    return { seq: lo, hash };
  }

  /** Stores what is queued, then signs the tail. Idempotent per seq (the checkpoint's _id is its seq). */
  async checkpoint(): Promise<AuditCheckpointDoc | null> {
    await this.flush();
    return this.signTail();
  }

  private async signTail(): Promise<AuditCheckpointDoc | null> {
    const tail = this.tail ?? (await this.findTail());
    this.tail = tail;
    if (tail.seq === 0) return null;
    const at = new Date();
    const doc: AuditCheckpointDoc = {
      _id: seqId(tail.seq),
      seq: tail.seq,
      hash: tail.hash,
      at,
      signature: this.signer.sign(checkpointPayload(tail.seq, tail.hash, at)),
      cert: this.signer.fingerprint,
    };
    try {
      await this.checkpoints.create(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    this.lastCheckpoint = { seq: tail.seq, at: at.getTime() };
    return doc;
  }

  /**
   * Walks every entry and checkpoint. Entries are read in storage order (a sorted scan of a
   * million rows is far slower on FerretDB) and the chain is checked afterwards by seq.
   */
  async verify(opts: { onProgress?: (read: number) => void } = {}): Promise<VerifyReport> {
    const started = Date.now();
    const problems: AuditProblem[] = [];
    const add = (p: AuditProblem) => {
      problems.push(p);
    };
    const hashes: (string | undefined)[] = [];
    const prevs: (string | undefined)[] = [];
    let count = 0;
    let maxSeq = 0;
    const cursor = this.entries.collection.find({}, { batchSize: 5000 });
    for await (const raw of cursor) {
      const doc = raw as unknown as AuditEntryDoc;
      count++;
      if (opts.onProgress && count % 50_000 === 0) opts.onProgress(count);
      const id = String(doc._id);
      if (!ID_RE.test(id) || Number(id) < 1) {
        add({ kind: 'inserted', seq: null, id, message: `document ${id} is not part of the sequence` });
        continue;
      }
      const seq = Number(id);
      if (typeof doc.e !== 'string' || sha256Hex(doc.e) !== doc.h) {
        add({ kind: 'altered', seq, message: `entry ${seq} was changed after it was written (its content no longer matches its hash)` });
        hashes[seq] = typeof doc.e === 'string' ? sha256Hex(doc.e) : 'x';
        prevs[seq] = undefined;
        maxSeq = Math.max(maxSeq, seq);
        continue;
      }
      let entry: AuditEntry;
      try {
        entry = JSON.parse(doc.e) as AuditEntry;
      } catch {
        add({ kind: 'altered', seq, message: `entry ${seq} is not valid JSON` });
        continue;
      }
      if (entry.seq !== seq) add({ kind: 'inserted', seq, message: `document ${id} holds entry ${String(entry.seq)}: copied or renumbered` });
      else if (doc.actor !== entry.actor || doc.action !== entry.action || new Date(doc.at).toISOString() !== entry.at) {
        add({ kind: 'altered', seq, message: `entry ${seq}'s searchable copy (actor/action/time) was changed` });
      }
      hashes[seq] = doc.h;
      prevs[seq] = entry.prev;
      if (seq > maxSeq) maxSeq = seq;
    }
    for (let s = 1; s <= maxSeq; s++) {
      const h = hashes[s];
      if (h === undefined) {
        add({ kind: 'missing', seq: s, message: `entry ${s} is missing (deleted)` });
        continue;
      }
      const before = s === 1 ? GENESIS_HASH : hashes[s - 1];
      const prev = prevs[s];
      if (before !== undefined && prev !== undefined && prev !== before) {
        add({ kind: 'chain_broken', seq: s - 1, message: `entry ${s - 1} is not the entry ${s} was chained to: it was replaced or inserted` });
      }
    }
    const cps = await this.checkpoints.find({}).lean<AuditCheckpointDoc[]>();
    let lastCheckpointSeq = 0;
    for (const cp of cps) {
      if (cp.cert !== this.signer.fingerprint || !this.signer.verify(checkpointPayload(cp.seq, cp.hash, new Date(cp.at)), cp.signature) || cp._id !== seqId(cp.seq)) {
        add({ kind: 'bad_signature', seq: cp.seq, message: `checkpoint at ${cp.seq} is not signed by this system's audit key` });
        continue;
      }
      lastCheckpointSeq = Math.max(lastCheckpointSeq, cp.seq);
      const h = hashes[cp.seq];
      if (h === undefined) add({ kind: 'missing', seq: cp.seq, message: `entry ${cp.seq}, covered by a signed checkpoint, is missing (the trail was cut back)` });
      else if (h !== cp.hash) add({ kind: 'checkpoint_mismatch', seq: cp.seq, message: `the chain up to entry ${cp.seq} differs from the signed checkpoint: entries up to it were rewritten` });
    }
    problems.sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
    const unique = problems.filter((p, i) => i === 0 || p.kind !== problems[i - 1]!.kind || p.seq !== problems[i - 1]!.seq);
    return {
      ok: unique.length === 0,
      entries: count,
      lastSeq: maxSeq,
      checkpoints: cps.length,
      lastCheckpointSeq,
      unsignedTail: Math.max(0, maxSeq - lastCheckpointSeq),
      first: unique[0] ?? null,
      problems: unique.slice(0, MAX_PROBLEMS),
      ms: Date.now() - started,
    };
  }

  /** Newest first. Filters run on the searchable copies; each result is shown from its hashed content. */
  async list(filter: ListFilter = {}): Promise<ListedEntry[]> {
    const q: Record<string, unknown> = {};
    if (filter.actor) q.actor = filter.actor;
    if (filter.action) q.action = filter.action;
    if (filter.since || filter.until) q.at = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10_000);
    const docs = await this.entries.find(q).sort({ _id: -1 }).limit(limit).lean<AuditEntryDoc[]>();
    return docs.map((d) => {
      let entry: AuditEntry;
      let suspect = sha256Hex(d.e) !== d.h;
      try {
        entry = JSON.parse(d.e) as AuditEntry;
      } catch {
        entry = { seq: Number(d._id), at: d.at.toISOString(), actor: d.actor, role: null, ip: null, action: d.action, object: null, outcome: 'failure', details: {}, prev: '' };
        suspect = true;
      }
      if (entry.actor !== d.actor || entry.action !== d.action || entry.seq !== Number(d._id)) suspect = true;
      return { ...entry, hash: d.h, suspect };
    });
  }
}
