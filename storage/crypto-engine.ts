/**
 * Batch AES-256-GCM (and the running SHA-256 of plaintext) over a list of segments.
 *
 * Why a worker thread: node:crypto's GCM runs at roughly 600 MB/s per core here, on the thread that
 * calls it. On the event loop it serialises with HTTP parsing and MinIO's request signing (the
 * client MD5s and SHA-256s every part of a put). A worker overlaps crypto with I/O on a second
 * core. The inline engine does the same work on the calling thread (tests, single-core hosts).
 * Gets use neither by default: DecryptStream opens their segments directly on the calling
 * thread, which costs less CPU than the hop (a copy into a batch buffer, transfers both ways and
 * the GC they cause), though it does not overlap with the network read. With `decryptThreads`,
 * gets over 2 MiB go to the worker in batches, each sent back decrypted in place.
 *
 * The engines know nothing of the object format: callers pass each segment's nonce and AAD
 * (envelope.ts builds them). One format rule lives here: a segment marked `appendDigest` gets
 * the SHA-256 of all plaintext sealed so far in its stream appended to its AAD, since only the
 * thread that hashed the plaintext knows it.
 */
import { createCipheriv, createDecipheriv, createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface SegmentSpec {
  /** Offset and length in the batch's data (for open, length excludes the 16-byte tag that follows). */
  off: number;
  len: number;
  iv: Uint8Array;
  aad: Uint8Array;
  appendDigest?: boolean;
}

export interface SealReply {
  /** Ciphertext and tags in order, as produced (no copy into one buffer). */
  parts: Buffer[];
  /** Present when a segment had appendDigest. */
  digest?: Buffer;
}

export interface OpenReply {
  /**
   * Plaintext of the segments that authenticated, in order, in one buffer: the batch's own input
   * buffer, each segment's plaintext copied down over ciphertext already consumed (plaintext
   * offset ≤ ciphertext offset, so nothing unread is overwritten). A segment's plaintext is
   * written there only after its tag verified; past `plain` the buffer holds only this batch's
   * ciphertext and tags. The caller owns it (it is never pooled again).
   */
  plain: Buffer;
  /** Index in the batch of the first segment that failed authentication, or -1. */
  failed: number;
}

export interface CryptoEngine {
  seal(stream: number, key: Buffer, data: Buffer, segs: SegmentSpec[]): Promise<SealReply>;
  open(key: Buffer, data: Buffer, segs: SegmentSpec[]): Promise<OpenReply>;
  /** Forgets a stream's running hash (stream aborted). */
  drop(stream: number): void;
}

// The worker's body, as source so it needs no loader or separate build step. Keep in step with InlineEngine.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createCipheriv, createDecipheriv, createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'drop') { hashes.delete(m.stream); return; }
  try {
    const key = Buffer.from(m.key.buffer, m.key.byteOffset, m.key.byteLength);
    const data = Buffer.from(m.data, 0, m.length);
    const meta = Buffer.from(m.meta.buffer, m.meta.byteOffset, m.meta.byteLength);
    const segs = [];
    for (let i = 0; i < m.layout.length; i += 5) {
      const [off, len, metaOff, aadLen, appendDigest] = m.layout.slice(i, i + 5);
      segs.push({ off, len, iv: meta.subarray(metaOff, metaOff + 12), aad: meta.subarray(metaOff + 12, metaOff + 12 + aadLen), appendDigest: appendDigest === 1 });
    }
    // Each segment's output is handed over as produced (update() allocates it): no copy into
    // one batch buffer. The input buffer goes back to the caller's pool with the reply.
    const outs = [];
    const own = (b) => {
      if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b.buffer;
      const c = new Uint8Array(b.length); c.set(b); return c.buffer;
    };
    if (m.op === 'seal') {
      let h = hashes.get(m.stream);
      if (!h) { h = createHash('sha256'); hashes.set(m.stream, h); }
      let digest = null;
      for (const s of segs) {
        const plain = data.subarray(s.off, s.off + s.len);
        h.update(plain);
        let aad = s.aad;
        if (s.appendDigest) { digest = h.digest(); hashes.delete(m.stream); aad = Buffer.concat([aad, digest]); }
        const c = createCipheriv('aes-256-gcm', key, s.iv);
        c.setAAD(aad);
        const ct = c.update(plain);
        c.final();
        if (ct.length) outs.push(own(ct));
        outs.push(own(c.getAuthTag()));
      }
      parentPort.postMessage({ id: m.id, outs, digest: digest && new Uint8Array(digest), back: m.data }, [...new Set(outs), m.data]);
    } else {
      // Plaintext is copied down into the input buffer only after its segment's tag verified, and
      // the buffer goes back as the one reply (one transfer per batch, not one per segment).
      let failed = -1;
      let plain = 0;
      for (let i = 0; i < segs.length; i++) {
        const s = segs[i];
        try {
          const d = createDecipheriv('aes-256-gcm', key, s.iv);
          d.setAAD(s.aad);
          d.setAuthTag(data.subarray(s.off + s.len, s.off + s.len + 16));
          const p = d.update(data.subarray(s.off, s.off + s.len));
          d.final();
          plain += p.copy(data, plain);
        } catch {
          failed = i;
          break;
        }
      }
      parentPort.postMessage({ id: m.id, outs, failed, plain, back: m.data }, [m.data]);
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String(err && err.message || err) });
  }
});
`;

export class InlineEngine implements CryptoEngine {
  private hashes = new Map<number, Hash>();

  async seal(stream: number, key: Buffer, data: Buffer, segs: SegmentSpec[]): Promise<SealReply> {
    let h = this.hashes.get(stream);
    if (!h) this.hashes.set(stream, (h = createHash('sha256')));
    const parts: Buffer[] = [];
    let digest: Buffer | undefined;
    for (const s of segs) {
      const plain = data.subarray(s.off, s.off + s.len);
      h.update(plain);
      let aad = Buffer.from(s.aad);
      if (s.appendDigest) {
        digest = h.digest();
        this.hashes.delete(stream);
        aad = Buffer.concat([aad, digest]);
      }
      const c = createCipheriv('aes-256-gcm', key, s.iv);
      c.setAAD(aad);
      parts.push(c.update(plain));
      c.final();
      parts.push(c.getAuthTag());
    }
    return { parts, digest };
  }

  async open(key: Buffer, data: Buffer, segs: SegmentSpec[]): Promise<OpenReply> {
    let failed = -1;
    let plain = 0;
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      try {
        const d = createDecipheriv('aes-256-gcm', key, s.iv);
        d.setAAD(s.aad);
        d.setAuthTag(data.subarray(s.off + s.len, s.off + s.len + 16));
        const p = d.update(data.subarray(s.off, s.off + s.len));
        d.final();
        plain += p.copy(data, plain);
      } catch {
        failed = i;
        break;
      }
    }
    return { plain: data.subarray(0, plain), failed };
  }

  drop(stream: number): void {
    this.hashes.delete(stream);
  }
}

interface Reply {
  outs: ArrayBuffer[];
  failed?: number;
  /** open: authenticated plaintext bytes at the start of `back`. */
  plain?: number;
  digest?: Uint8Array | null;
  /** The batch's input buffer, handed back for reuse. */
  back?: ArrayBuffer;
}

interface Pending {
  resolve: (v: Reply) => void;
  reject: (e: Error) => void;
}

/**
 * Input buffers for batches, reused: the worker hands each one back with its reply, so a
 * stream's steady state allocates no input memory (see takeBuffer in envelope.ts).
 */
const POOL_MAX = 8;
const pool: ArrayBuffer[] = [];
/** Batch buffers this module allocated: only these may be transferred (detached) to the worker. */
const owned = new WeakSet<ArrayBuffer>();

/** A buffer of exactly n bytes, backed by a pooled ArrayBuffer when one is large enough. */
export function pooledBuffer(n: number): Buffer {
  for (let i = pool.length - 1; i >= 0; i--) {
    const ab = pool[i]!;
    if (ab.byteLength >= n && ab.byteLength <= 2 * n) {
      pool.splice(i, 1);
      // The caller overwrites [0, n); what lies beyond is another stream's old batch, and a
      // reader can reach it through .buffer of a chunk cut from this one: clear it.
      if (ab.byteLength > n) new Uint8Array(ab, n).fill(0);
      return Buffer.from(ab, 0, n);
    }
  }
  const b = Buffer.allocUnsafeSlow(n);
  owned.add(b.buffer as ArrayBuffer);
  return b;
}

function recycle(ab: ArrayBuffer | undefined): void {
  if (ab && ab.byteLength >= 64 * 1024 && pool.length < POOL_MAX) {
    owned.add(ab);
    pool.push(ab);
  }
}

/** One worker thread shared by every stream in the process; it keeps the process alive only while busy. */
class WorkerEngine implements CryptoEngine {
  private worker: Worker | null = null;
  private pending = new Map<number, Pending>();
  private nextId = 1;

  private get w(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    w.unref();
    w.on('message', (m: Reply & { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.error !== undefined) p.reject(new Error(`crypto worker: ${m.error}`));
      else p.resolve(m);
    });
    const fail = (err: Error): void => {
      this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`crypto worker exited with code ${code}`)));
    this.worker = w;
    return w;
  }

  /** Nonces and AADs travel as one buffer plus a flat number list: cloning many small arrays per message was costly. */
  private static encode(segs: SegmentSpec[]): { layout: number[]; meta: Uint8Array } {
    let total = 0;
    for (const s of segs) total += s.iv.length + s.aad.length;
    const meta = new Uint8Array(total);
    const layout: number[] = [];
    let o = 0;
    for (const s of segs) {
      meta.set(s.iv, o);
      meta.set(s.aad, o + s.iv.length);
      layout.push(s.off, s.len, o, s.aad.length, s.appendDigest ? 1 : 0);
      o += s.iv.length + s.aad.length;
    }
    return { layout, meta };
  }

  private call(msg: Record<string, unknown>, data: Buffer): Promise<Reply> {
    const w = this.w;
    const id = this.nextId++;
    // A batch buffer from pooledBuffer is handed over rather than cloned (and comes back with the
    // reply); anything else, which may share its memory with other buffers, is copied first.
    let own: ArrayBuffer;
    if (data.byteOffset === 0 && owned.has(data.buffer as ArrayBuffer)) {
      owned.delete(data.buffer as ArrayBuffer);
      own = data.buffer as ArrayBuffer;
    } else {
      const copy = pooledBuffer(data.length);
      data.copy(copy);
      own = copy.buffer as ArrayBuffer;
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.ref();
      w.postMessage({ ...msg, id, data: own, length: data.length }, [own]);
    });
  }

  async seal(stream: number, key: Buffer, data: Buffer, segs: SegmentSpec[]): Promise<SealReply> {
    const r = await this.call({ op: 'seal', stream, key: new Uint8Array(key), ...WorkerEngine.encode(segs) }, data);
    recycle(r.back);
    return { parts: r.outs.map((ab) => Buffer.from(ab)), digest: r.digest ? Buffer.from(r.digest) : undefined };
  }

  async open(key: Buffer, data: Buffer, segs: SegmentSpec[]): Promise<OpenReply> {
    const r = await this.call({ op: 'open', key: new Uint8Array(key), ...WorkerEngine.encode(segs) }, data);
    // Not recycled: it now holds plaintext that the caller hands on to its reader.
    return { plain: Buffer.from(r.back!, 0, r.plain ?? 0), failed: r.failed ?? -1 };
  }

  drop(stream: number): void {
    this.worker?.postMessage({ op: 'drop', stream });
  }
}

let shared: WorkerEngine | null = null;
const inline = new InlineEngine();

/** The process-wide engine: a worker thread when `threads` is true (the default), else inline. */
export function cryptoEngine(threads = true): CryptoEngine {
  if (!threads) return inline;
  return (shared ??= new WorkerEngine());
}
