/**
 * The tamper-evident audit trail. Other modules make ONE call: `rt.audit.record({...})`.
 *
 * Each entry carries server time, a unique seq (1, 2, 3…) and the SHA-256 of the previous
 * entry; its own hash is the SHA-256 of its canonical JSON. Every few thousand entries (and at
 * least once a minute while entries arrive) a checkpoint {seq, hash, time} is signed with the
 * system's audit signing key. verify() recomputes everything and names the first entry that was
 * altered, removed or slipped in.
 *
 * Appends are batched: record() only queues the entry; a single appender per process flushes
 * the queue every few milliseconds as one block document of consecutive seqs (the storage format
 * is explained in models/audit.model.ts). Seqs are exclusive because a block's `_id` is the seq
 * right after the previous block's last entry and FerretDB makes a unique-key insert atomic (its
 * conditional updates are not). When another process took that position first, the insert fails
 * with 11000; the appender finds the new tail, renumbers its batch, re-chains it, and tries again.
 */
import crypto from 'node:crypto';
import { isDuplicateKey } from '../../db';
import type { Connection, Model, mongo } from 'mongoose';
import type { Logger } from 'pino';
import { AppError } from '../../errors';
import {
  auditBlockModel,
  auditCheckpointModel,
  auditHeadModel,
  HASH_HEX,
  seqId,
  SEQ_WIDTH,
  type AuditBlockDoc,
  type AuditCheckpointDoc,
  type AuditHeadDoc,
} from '../../models/audit.model';
import type { AuditSigner } from './signing';

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

/**
 * canonicalJson(entry), written directly: the top-level keys are fixed and already in sorted
 * order here, and actor, action, outcome and the object's fields are strings (record() checked
 * them), so only role, ip and details need the generic walk. The flush builds one per entry;
 * this is about a third of the cost of the walk.
 */
export function entryLine(e: AuditEntry): string {
  const object = e.object ? `{"id":${JSON.stringify(e.object.id)},"type":${JSON.stringify(e.object.type)}}` : 'null';
  return (
    `{"action":${JSON.stringify(e.action)},"actor":${JSON.stringify(e.actor)},"at":${JSON.stringify(e.at)},"details":${canonicalJson(e.details)},` +
    `"ip":${canonicalJson(e.ip)},"object":${object},"outcome":${JSON.stringify(e.outcome)},"prev":${JSON.stringify(e.prev)},"role":${canonicalJson(e.role)},"seq":${e.seq}}`
  );
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
  | 'bad_signature' // a checkpoint whose signature does not verify with our certificate
  | 'cut_back'; // the chain ends before (or differs at) a checkpoint anchored outside the database

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
  /** the newest checkpoint anchored outside the database (object-locked bucket), null when anchoring is off or none yet */
  anchoredSeq: number | null;
  first: AuditProblem | null;
  problems: AuditProblem[];
  ms: number;
}

const SECURITY_ACTION = /^(auth|role|user|system|audit|keys|access)\./;

/** Security events, as the security auditor reviews them (see ListFilter.securityOnly). */
export function isSecurityEvent(e: Pick<AuditEntry, 'role' | 'action' | 'outcome'>): boolean {
  const roles = (e.role ?? '').split(',');
  return roles.includes('sysadmin') || roles.includes('secadmin') || e.outcome !== 'success' || SECURITY_ACTION.test(e.action);
}

export interface ListFilter {
  actor?: string;
  action?: string;
  /**
   * Only security events: what the system and security administrators did, sign-ins, refusals
   * and failures, account, role, key and audit actions (the security auditor's view, 三员分立).
   */
  securityOnly?: boolean;
  /** the object acted on: its id (an item id, a user id…), optionally its type */
  objectId?: string;
  objectType?: string;
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
  /** while entries keep coming, flushes start at least this far apart */
  flushIntervalMs?: number;
  maxBatch?: number;
  checkpointEvery?: number;
  checkpointIntervalMs?: number;
  /** names this process's head hint */
  appenderId?: string;
  /** where signed checkpoints are anchored outside the database (platform/anchor.ts) */
  anchor?: AnchorSink | null;
}

/** A signed checkpoint as anchored outside the database. */
export interface AnchorRecord {
  seq: number;
  hash: string;
  at: string;
  signature: string;
  cert: string;
}

export interface AnchorPlace {
  bucket: string;
  key: string;
  versionId: string | null;
  mode: string | null;
  retainUntil: string | null;
}

/** Write-once storage for checkpoints that a database administrator cannot remove (issue #13.7). */
export interface AnchorSink {
  readonly bucket: string;
  put(cp: AnchorRecord): Promise<AnchorPlace>;
  latestFrom(seq: number): Promise<(AnchorRecord & { location: AnchorPlace }) | null>;
}

/** What `archive audit anchor` prints: enough to check the anchor later without this system. */
export interface AnchorReceipt {
  seq: number;
  hash: string;
  at: string;
  payload: string;
  signature: string;
  algorithm: 'RSA-SHA256';
  certFingerprint: string;
  certPem: string;
  location: AnchorPlace;
}

interface Pending {
  input: AuditInput;
  at: Date;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A position in the chain: entry `seq`, its hash, and the seq of the block that holds it. */
interface ChainPos {
  seq: number;
  hash: string;
  block: number;
}

interface BuiltBlock {
  doc: AuditBlockDoc;
  count: number;
  tail: ChainPos;
}

const ID_RE = new RegExp(`^\\d{${SEQ_WIDTH}}$`);
const MAX_PROBLEMS = 100;
/** Characters of canonical JSON per block: ≤ 6 MB of UTF-8 even if all CJK, under the 16 MB document limit. */
const MAX_BLOCK_CHARS = 2_000_000;
const PROGRESS_EVERY = 50_000;

function asList<T>(v: T[] | T | null | undefined): T[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The last entry of the block whose first entry is `first` and whose hashes are `h`. */
function endOf(first: number, h: unknown): ChainPos | undefined {
  const n = typeof h === 'string' ? Math.floor(h.length / HASH_HEX) : 0;
  if (!n) return undefined;
  return { seq: first + n - 1, hash: (h as string).slice((n - 1) * HASH_HEX, n * HASH_HEX), block: first };
}

function sameSet(stored: string[], actual: Set<string>): boolean {
  return stored.length === actual.size && stored.every((v) => actual.has(v));
}


// Module level, not a closure per call: record() runs on every request.
function bad(what: string): never {
  throw new AppError('validation_failed', { message: `audit.record: ${what}`, zh: `审计记录参数不正确：${what}` });
}

function validate(input: AuditInput): void {
  if (!input || typeof input !== 'object') bad('input must be an object');
  if (typeof input.actor !== 'string' || !input.actor) bad('actor is required');
  if (typeof input.action !== 'string' || !/^[a-z][a-z0-9_.-]{0,63}$/.test(input.action)) bad('action must look like "item.read"');
  if (!(AUDIT_OUTCOMES as readonly string[]).includes(input.outcome)) bad(`outcome must be one of ${AUDIT_OUTCOMES.join(', ')}`);
  if (input.object && (typeof input.object.type !== 'string' || typeof input.object.id !== 'string')) bad('object must be {type, id} strings');
}

export class AuditTrail {
  readonly blocks: Model<AuditBlockDoc>;
  readonly checkpoints: Model<AuditCheckpointDoc>;
  private readonly anchor: AnchorSink | null;
  private readonly heads: Model<AuditHeadDoc>;
  private readonly signer: AuditSigner;
  private readonly logger: Logger;
  private readonly flushMs: number;
  private readonly flushIntervalMs: number;
  private lastFlushAt = 0;
  private readonly maxBatch: number;
  private readonly checkpointEvery: number;
  private readonly checkpointIntervalMs: number;
  private readonly appenderId: string;

  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private tail: ChainPos | undefined;
  private lastCheckpoint = { seq: 0, at: Date.now() };
  private lastHeadWrite = 0;
  private closed = false;

  constructor(conn: Connection, opts: AuditOptions) {
    this.blocks = auditBlockModel(conn);
    this.checkpoints = auditCheckpointModel(conn);
    this.heads = auditHeadModel(conn);
    this.signer = opts.signer;
    this.logger = opts.logger;
    this.flushMs = opts.flushMs ?? 10;
    // A flush is one insert: about 1 ms of CPU between node and FerretDB whatever it carries,
    // plus a few µs per entry (docs/benchmarks.md, bench:audit). With a flush every 10 ms that
    // is up to ~100 inserts/s, as much CPU as 100-150 of the requests being recorded, taken from
    // them whenever the machine is busy. Spacing flushes 40 ms apart while entries keep coming
    // caps it at 25/s; an entry after a quiet spell still waits only flushMs, and an awaited
    // entry under steady traffic at most the interval.
    this.flushIntervalMs = Math.max(opts.flushIntervalMs ?? 40, this.flushMs);
    this.maxBatch = opts.maxBatch ?? 2000;
    this.checkpointEvery = opts.checkpointEvery ?? 10_000;
    this.checkpointIntervalMs = opts.checkpointIntervalMs ?? 60_000;
    this.appenderId = opts.appenderId ?? `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    this.anchor = opts.anchor ?? null;
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
      }, Math.max(this.flushMs, this.lastFlushAt + this.flushIntervalMs - Date.now()));
    }
  }

  private runFlush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.pending.splice(0, this.maxBatch);
    if (!batch.length) return Promise.resolve();
    this.lastFlushAt = Date.now();
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
    // Only a hint for a fresh appender, which probes forward from it: once a second is plenty.
    if (!this.tail || (!force && Date.now() - this.lastHeadWrite < 1000)) return;
    this.lastHeadWrite = Date.now();
    await this.heads.updateOne({ _id: this.appenderId }, { $set: { seq: this.tail.seq, hash: this.tail.hash, block: this.tail.block, at: new Date() } }, { upsert: true });
  }

  private get rawBlocks(): mongo.Collection<AuditBlockDoc> {
    return this.blocks.collection as unknown as mongo.Collection<AuditBlockDoc>;
  }

  /** Hashes each entry once, here in the flush; the request that recorded it only queued it. */
  private build(batch: Pending[], from: ChainPos): BuiltBlock[] {
    const blocks: BuiltBlock[] = [];
    let prev = from.hash;
    let seq = from.seq;
    let i = 0;
    while (i < batch.length) {
      const first = seq + 1;
      const lines: string[] = [];
      const hashes: string[] = [];
      const actors = new Set<string>();
      const actions = new Set<string>();
      let chars = 0;
      let minAt = Infinity;
      let maxAt = -Infinity;
      for (; i < batch.length && (lines.length === 0 || chars < MAX_BLOCK_CHARS); i++) {
        const p = batch[i]!;
        seq++;
        const entry: AuditEntry = {
          seq,
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
        const line = entryLine(entry);
        prev = sha256Hex(line);
        lines.push(line);
        hashes.push(prev);
        chars += line.length;
        actors.add(entry.actor);
        actions.add(entry.action);
        const t = p.at.getTime();
        if (t < minAt) minAt = t;
        if (t > maxAt) maxAt = t;
      }
      blocks.push({
        doc: { _id: seqId(first), e: lines.join('\n'), h: hashes.join(''), actor: [...actors], action: [...actions], at: [new Date(minAt), new Date(maxAt)] },
        count: lines.length,
        tail: { seq, hash: prev, block: first },
      });
    }
    return blocks;
  }

  private async append(batch: Pending[]): Promise<void> {
    let rest = batch;
    for (let attempt = 0; rest.length; attempt++) {
      if (attempt > 200) throw new AppError('service_unavailable', { message: 'Could not append to the audit trail: too much contention' });
      const from = this.tail ?? (await this.findStart());
      const blocks = this.build(rest, from);
      try {
        // The driver directly: the documents are already in their stored shape, and mongoose's
        // casting of a large block would be CPU taken from the request path.
        if (blocks.length === 1) await this.rawBlocks.insertOne(blocks[0]!.doc);
        else await this.rawBlocks.insertMany(blocks.map((b) => b.doc), { ordered: true });
        this.tail = blocks[blocks.length - 1]!.tail;
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // A position we tried is taken: by another appender, or by our own insert that the
        // driver retried. Keep the prefix of ours that landed (an ordered insert stores one),
        // step over the block that holds the position, and try again after it. Every lookup
        // here finds a document (the key is taken), which FerretDB answers from the key.
        let landed = 0;
        let pos = from;
        for (const b of blocks) {
          const stored = await this.rawBlocks.findOne({ _id: b.doc._id }, { projection: { h: 1 } });
          if (stored?.h === b.doc.h) {
            landed += b.count;
            pos = b.tail;
            continue;
          }
          const theirs = stored ? endOf(Number(stored._id), stored.h) : undefined;
          if (!theirs) throw new AppError('integrity_error', { message: `Audit block ${b.doc._id} is taken but unreadable: run "archive audit verify"` });
          pos = theirs;
          break;
        }
        this.tail = pos;
        rest = rest.slice(landed);
        if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  /**
   * Where a fresh appender starts: the furthest head hint or checkpoint that is really stored,
   * else the beginning. It need not be the tail: the insert is the probe, and a taken position
   * moves the appender on (append). Looking for "the block after this one" instead would end in
   * an `_id` lookup that finds nothing, and FerretDB 1.24 answers those by scanning the whole
   * collection (measured: 45 ms at 30,000 small documents; seconds for a million entries).
   */
  private async findStart(): Promise<ChainPos> {
    const heads = await this.heads.find({}).lean<AuditHeadDoc[]>();
    const cps = await this.checkpoints.find({}).sort({ seq: -1 }).limit(1).lean<AuditCheckpointDoc[]>();
    const cp = cps[0];
    if (cp && cp.seq > this.lastCheckpoint.seq) this.lastCheckpoint = { seq: cp.seq, at: cp.at.getTime() };
    // Hints written before blocks have no `block`: their entry was a block of one.
    const hints = [...heads, ...cps].map((h) => ({ seq: h.seq, hash: h.hash, block: h.block ?? h.seq })).sort((a, b) => b.seq - a.seq);
    for (const hint of hints) {
      const doc = await this.rawBlocks.findOne({ _id: seqId(hint.block) }, { projection: { h: 1 } });
      const b = doc ? endOf(hint.block, doc.h) : undefined;
      if (b && b.seq === hint.seq && b.hash === hint.hash) return b;
    }
    // No usable hint (a trail from before hints, or hints lost): one sorted scan for the last
    // block, rather than probing forward from the beginning one insert per block.
    const cursor = this.rawBlocks.find({}, { projection: { h: 1 }, sort: { _id: -1 }, batchSize: 16 });
    try {
      for await (const doc of cursor) {
        const b = ID_RE.test(String(doc._id)) ? endOf(Number(doc._id), doc.h) : undefined;
        if (b) return b;
      }
    } finally {
      await cursor.close();
    }
    return { seq: 0, hash: GENESIS_HASH, block: 0 };
  }

  /** Stores what is queued, then signs the tail. Idempotent per seq (the checkpoint's _id is its seq). */
  async checkpoint(): Promise<AuditCheckpointDoc | null> {
    await this.flush();
    return this.signTail();
  }

  private async signTail(): Promise<AuditCheckpointDoc | null> {
    const tail = this.tail ?? (await this.findStart());
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
      block: tail.block,
    };
    try {
      await this.checkpoints.create(doc);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    this.lastCheckpoint = { seq: tail.seq, at: at.getTime() };
    // Outside the database: an object-locked anchor that nobody with the database can remove.
    // A failed anchor is logged; the next checkpoint's anchor covers everything before it.
    if (this.anchor) {
      this.lastAnchor = await this.anchor
        .put({ seq: doc.seq, hash: doc.hash, at: at.toISOString(), signature: doc.signature, cert: doc.cert })
        .catch((err: unknown) => {
          this.logger.error({ err, seq: doc.seq }, 'anchoring the audit checkpoint outside the database failed');
          return null;
        });
    }
    return doc;
  }

  private lastAnchor: AnchorPlace | null = null;

  /**
   * Signs and anchors a checkpoint now and returns its receipt: the signed text, the signature,
   * the certificate and where the locked copy lies. Printed or sent, it lets anyone check later
   * (with openssl and the certificate) that the trail had reached this entry with this hash.
   */
  async anchorReceipt(): Promise<AnchorReceipt> {
    if (!this.anchor) throw new AppError('config_invalid', { message: 'Audit anchoring is off (AUDIT_ANCHOR=false)', zh: '审计锚定未启用（AUDIT_ANCHOR=false）' });
    this.lastAnchor = null;
    const cp = await this.checkpoint();
    if (!cp) throw new AppError('conflict', { message: 'The audit trail is empty: nothing to anchor', zh: '审计记录为空，无可锚定内容' });
    const location = this.lastAnchor as AnchorPlace | null;
    if (!location) throw new AppError('service_unavailable', { message: 'The checkpoint could not be anchored in the object store', zh: '检查点未能写入对象存储锚定区' });
    const at = new Date(cp.at).toISOString();
    return { seq: cp.seq, hash: cp.hash, at, payload: checkpointPayload(cp.seq, cp.hash, new Date(cp.at)), signature: cp.signature, algorithm: 'RSA-SHA256', certFingerprint: cp.cert, certPem: this.signer.certPem, location };
  }

  /**
   * Walks every entry and checkpoint. Blocks are read in storage order (a sorted scan is far
   * slower on FerretDB); each entry is placed by the seq inside its hashed content, and the
   * chain is checked within a block as it is read and across blocks afterwards, by seq.
   */
  async verify(opts: { onProgress?: (read: number) => void } = {}): Promise<VerifyReport> {
    const started = Date.now();
    const problems: AuditProblem[] = [];
    const add = (p: AuditProblem) => {
      problems.push(p);
    };
    const hashes: (string | undefined)[] = [];
    // An entry's prev is kept only when its predecessor was not the line before it in the same
    // block; the rest of the chain is checked on the spot, which halves what a million entries hold.
    const prevs = new Map<number, string>();
    let count = 0;
    let maxSeq = 0;
    let nextProgress = PROGRESS_EVERY;
    // Blocks are up to a few MB: a small batch keeps the driver's buffer small without more round trips mattering.
    const cursor = this.rawBlocks.find({}, { batchSize: 32 });
    for await (const doc of cursor) {
      const id = String(doc._id);
      if (!ID_RE.test(id) || Number(id) < 1) {
        count++;
        add({ kind: 'inserted', seq: null, id, message: `document ${id} is not part of the sequence` });
        continue;
      }
      const first = Number(id);
      const lines = typeof doc.e === 'string' ? doc.e.split('\n') : [''];
      const h = typeof doc.h === 'string' ? doc.h : '';
      if (h.length > lines.length * HASH_HEX) {
        add({ kind: 'missing', seq: first + lines.length, message: `document ${id} lists more hashes than entries: entry ${first + lines.length} was cut out of it` });
      }
      const actors = new Set<string>();
      const actions = new Set<string>();
      let minAt = Infinity;
      let maxAt = -Infinity;
      let readable = true;
      let placed = true;
      let copyProblem: number | null = null;
      const storedActors = asList(doc.actor);
      const storedActions = asList(doc.action);
      let prevSeq = -1;
      let prevHash = '';
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        const pos = first + i;
        count++;
        const digest = sha256Hex(line);
        if (digest !== h.slice(i * HASH_HEX, (i + 1) * HASH_HEX)) {
          add({ kind: 'altered', seq: pos, message: `entry ${pos} was changed after it was written (its content no longer matches its hash)` });
          // Its successor's link is then checked against what is stored now.
          if (hashes[pos] === undefined) hashes[pos] = digest;
          if (pos > maxSeq) maxSeq = pos;
          readable = false;
          prevSeq = -1;
          continue;
        }
        let entry: AuditEntry;
        try {
          entry = JSON.parse(line) as AuditEntry;
        } catch {
          add({ kind: 'altered', seq: pos, message: `entry ${pos} is not valid JSON` });
          readable = false;
          prevSeq = -1;
          continue;
        }
        const seq = entry.seq;
        if (!Number.isSafeInteger(seq) || seq < 1) {
          add({ kind: 'inserted', seq: pos, id, message: `document ${id} holds a line without a valid seq in the place of entry ${pos}` });
          readable = false;
          prevSeq = -1;
          continue;
        }
        if (seq !== pos && placed) {
          // Reported once per block: after a line is cut out or slipped in, every later line is out of place.
          placed = false;
          add({ kind: 'inserted', seq, id, message: `document ${id} holds entry ${seq} in the place of entry ${pos}: copied, moved or renumbered` });
        }
        if (hashes[seq] !== undefined) {
          add({ kind: 'inserted', seq, id, message: `entry ${seq} is stored twice (again in document ${id})` });
          prevSeq = -1;
          continue;
        }
        hashes[seq] = digest;
        if (prevSeq === seq - 1) {
          if (entry.prev !== prevHash) add({ kind: 'chain_broken', seq: seq - 1, message: `entry ${seq - 1} is not the entry ${seq} was chained to: it was replaced or inserted` });
        } else prevs.set(seq, entry.prev);
        prevSeq = seq;
        prevHash = digest;
        if (seq > maxSeq) maxSeq = seq;
        actors.add(entry.actor);
        actions.add(entry.action);
        const t = Date.parse(entry.at);
        if (t < minAt) minAt = t;
        if (t > maxAt) maxAt = t;
        if (copyProblem === null && (!storedActors.includes(entry.actor) || !storedActions.includes(entry.action))) copyProblem = seq;
      }
      if (readable) {
        const storedAt = asList(doc.at).map((d) => new Date(d).getTime());
        const atOk = storedAt.length >= 1 && storedAt.length <= 2 && storedAt[0] === minAt && storedAt[storedAt.length - 1] === maxAt;
        if (copyProblem !== null || !sameSet(storedActors, actors) || !sameSet(storedActions, actions) || !atOk) {
          const at = copyProblem ?? first;
          add({ kind: 'altered', seq: at, id, message: `the searchable copy (actor/action/time) of document ${id}, at entry ${at}, was changed` });
        }
      }
      while (opts.onProgress && count >= nextProgress) {
        opts.onProgress(nextProgress);
        nextProgress += PROGRESS_EVERY;
      }
    }
    for (let s = 1; s <= maxSeq; s++) {
      if (hashes[s] === undefined) {
        add({ kind: 'missing', seq: s, message: `entry ${s} is missing (deleted)` });
        continue;
      }
      const prev = prevs.get(s);
      const before = s === 1 ? GENESIS_HASH : hashes[s - 1];
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
    // The anchor outside the database: whoever deletes checkpoints and blocks after K cannot
    // delete it, so a chain that ends before it (or differs at it) was cut back or rewritten.
    let anchoredSeq: number | null = null;
    if (this.anchor) {
      const from = Math.max(0, Math.min(lastCheckpointSeq, maxSeq));
      const a = await this.anchor.latestFrom(from);
      if (a) {
        if (a.cert !== this.signer.fingerprint || !this.signer.verify(checkpointPayload(a.seq, a.hash, new Date(a.at)), a.signature)) {
          add({ kind: 'bad_signature', seq: a.seq, message: `the anchored checkpoint at ${a.seq} (${a.location.key}) is not signed by this system's audit key` });
        } else {
          anchoredSeq = a.seq;
          const h = hashes[a.seq];
          if (h === undefined) add({ kind: 'cut_back', seq: a.seq, message: `the trail ends at entry ${maxSeq}, but entry ${a.seq} was anchored outside the database at ${a.at} (${a.location.bucket}/${a.location.key}): the trail was cut back` });
          else if (h !== a.hash) add({ kind: 'cut_back', seq: a.seq, message: `entry ${a.seq} differs from the checkpoint anchored outside the database at ${a.at}: the trail was cut back and rewritten` });
        }
      }
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
      anchoredSeq,
      first: unique[0] ?? null,
      problems: unique.slice(0, MAX_PROBLEMS),
      ms: Date.now() - started,
    };
  }

  /**
   * Newest first. The searchable copies pick the blocks; the filters are then applied to each
   * entry's hashed content, which is what is shown.
   */
  async list(filter: ListFilter = {}): Promise<ListedEntry[]> {
    const q: Record<string, unknown> = {};
    if (filter.actor) q.actor = filter.actor;
    if (filter.action) q.action = filter.action;
    // `at` is [earliest, latest]: an array matches when some element meets each bound, which is
    // exactly "the block overlaps the window".
    if (filter.since || filter.until) q.at = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
    const since = filter.since?.getTime() ?? -Infinity;
    const until = filter.until?.getTime() ?? Infinity;
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), 10_000);
    const out: ListedEntry[] = [];
    // Blocks never overlap, so blocks by `_id` descending and lines backwards is newest first.
    const cursor = this.rawBlocks.find(q as mongo.Filter<AuditBlockDoc>, { sort: { _id: -1 }, batchSize: 16 });
    try {
      for await (const d of cursor) {
        const first = Number(d._id);
        const lines = typeof d.e === 'string' ? d.e.split('\n') : [''];
        const storedActors = asList(d.actor);
        const storedActions = asList(d.action);
        for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
          const line = lines[i]!;
          const hash = typeof d.h === 'string' ? d.h.slice(i * HASH_HEX, (i + 1) * HASH_HEX) : '';
          let suspect = sha256Hex(line) !== hash;
          let entry: AuditEntry;
          try {
            entry = JSON.parse(line) as AuditEntry;
          } catch {
            // Shown whatever the filter: an unreadable entry in a matching block is what an auditor must see.
            const at = asList(d.at)[0];
            entry = { seq: first + i, at: at ? new Date(at).toISOString() : '', actor: '(unreadable)', role: null, ip: null, action: '(unreadable)', object: null, outcome: 'failure', details: {}, prev: '' };
            out.push({ ...entry, hash, suspect: true });
            continue;
          }
          if (filter.actor && entry.actor !== filter.actor) continue;
          if (filter.action && entry.action !== filter.action) continue;
          if (filter.objectId && entry.object?.id !== filter.objectId) continue;
          if (filter.securityOnly && !isSecurityEvent(entry)) continue;
          if (filter.objectType && entry.object?.type !== filter.objectType) continue;
          const t = Date.parse(entry.at);
          if (t < since || t >= until) continue;
          if (entry.seq !== first + i || !storedActors.includes(entry.actor) || !storedActions.includes(entry.action)) suspect = true;
          out.push({ ...entry, hash, suspect });
        }
        if (out.length >= limit) break;
      }
    } finally {
      await cursor.close();
    }
    return out;
  }
}
