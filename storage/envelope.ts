/**
 * The ciphertext format: a short header, then the content in fixed-size segments, each sealed
 * with AES-256-GCM under the object's own data key (DEK).
 *
 *   header  = "SIAE" | version u8 (1) | flags u8 (0) | segment size u32 BE | nonce prefix (8) | DEK id (16)
 *   segment = ciphertext (segment size bytes; the final one 0..segment size) | GCM tag (16)
 *   nonce   = nonce prefix | segment index u32 BE
 *   AAD     = header | segment index u64 BE | final flag u8 | (final only) plaintext size u64 BE | plaintext SHA-256
 *
 * Putting the header in every segment's AAD authenticates it without a separate MAC. The index
 * and final flag make reordering, swapping, duplication and truncation at a segment boundary
 * fail authentication. Binding size and SHA-256 into the final segment ties the separately stored
 * record (sidecar) to this exact content, so a tampered size or checksum is caught on a full read.
 *
 * Every object has a fresh random DEK, so nonce uniqueness only has to hold within one object;
 * the random prefix is a second line of defence should a DEK ever be reused by mistake.
 *
 * Segments are decrypted into a buffer and pushed only after their tag verifies: a reader never
 * sees a byte of a segment that does not authenticate. Readers decide nothing about the segment
 * size: it comes from each object's header (1 KiB to 16 MiB), so objects written with another
 * size than today's default read the same way.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { StorageError } from './errors';
import { pooledBuffer, type CryptoEngine, type SegmentSpec } from './crypto-engine';

export const MAGIC = Buffer.from('SIAE', 'latin1');
export const FORMAT_VERSION = 1;
export const DEFAULT_SEGMENT_SIZE = 64 * 1024;
export const HEADER_SIZE = 4 + 1 + 1 + 4 + 8 + 16;
export const TAG_SIZE = 16;
const MAX_SEGMENTS = 2 ** 32;

export interface Header {
  segmentSize: number;
  noncePrefix: Buffer;
  dekId: Buffer;
  /** The exact encoded bytes, which go into every segment's AAD. */
  bytes: Buffer;
}

export function newHeader(segmentSize = DEFAULT_SEGMENT_SIZE): Header {
  return encodeHeader(segmentSize, randomBytes(8), randomBytes(16));
}

function encodeHeader(segmentSize: number, noncePrefix: Buffer, dekId: Buffer): Header {
  const bytes = Buffer.alloc(HEADER_SIZE);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt8(FORMAT_VERSION, 4);
  bytes.writeUInt8(0, 5);
  bytes.writeUInt32BE(segmentSize, 6);
  noncePrefix.copy(bytes, 10);
  dekId.copy(bytes, 18);
  return { segmentSize, noncePrefix, dekId, bytes };
}

/** Parses a header; anything unexpected is an integrity error because headers are only ever ours. */
export function decodeHeader(bytes: Buffer): Header {
  if (bytes.length !== HEADER_SIZE || !bytes.subarray(0, 4).equals(MAGIC)) {
    throw new StorageError('integrity_error', 'stored object does not start with an archive encryption header');
  }
  const version = bytes.readUInt8(4);
  if (version !== FORMAT_VERSION) throw new StorageError('integrity_error', `unsupported encryption format version ${version}`);
  const segmentSize = bytes.readUInt32BE(6);
  if (segmentSize < 1024 || segmentSize > 16 * 1024 * 1024) throw new StorageError('integrity_error', `implausible segment size ${segmentSize}`);
  return { segmentSize, noncePrefix: Buffer.from(bytes.subarray(10, 18)), dekId: Buffer.from(bytes.subarray(18, 34)), bytes: Buffer.from(bytes) };
}

function nonce(header: Header, index: number): Buffer {
  const n = Buffer.alloc(12);
  header.noncePrefix.copy(n, 0);
  n.writeUInt32BE(index, 8);
  return n;
}

/** The AAD of a segment; for the final one, without the trailing SHA-256 when `sha256` is null (the sealer appends it). */
function aad(header: Header, index: number, final: { size: number; sha256: Buffer | null } | null): Buffer {
  const h = header.bytes.length;
  const b = Buffer.alloc(h + 9 + (final ? 8 + (final.sha256 ? 32 : 0) : 0));
  header.bytes.copy(b, 0);
  b.writeBigUInt64BE(BigInt(index), h);
  b.writeUInt8(final ? 1 : 0, h + 8);
  if (final) {
    b.writeBigUInt64BE(BigInt(final.size), h + 9);
    final.sha256?.copy(b, h + 17);
  }
  return b;
}

export function segmentCount(size: number, segmentSize: number): number {
  return size === 0 ? 1 : Math.ceil(size / segmentSize);
}

export function ciphertextSize(size: number, segmentSize: number): number {
  return HEADER_SIZE + size + segmentCount(size, segmentSize) * TAG_SIZE;
}

/** A FIFO of buffers that hands out exact-length slices, copying only when a slice spans chunks. */
class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  take(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) {
      this.length -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    return this.drainInto(Buffer.allocUnsafe(n));
  }

  /**
   * Like take, but a slice that spans chunks is copied into the buffer `scratch` gives (at least n
   * bytes), which the caller reuses: for ciphertext read straight into a decipher, no allocation
   * per segment.
   */
  takeVia(n: number, scratch: () => Buffer): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return this.take(n);
    return this.drainInto(scratch().subarray(0, n));
  }

  /** Like take, but always a batch buffer of its own (pooled), so a worker can take it over. */
  takeOwned(n: number): Buffer {
    return this.drainInto(pooledBuffer(n));
  }

  /** Copies what is queued into one buffer of its own: for input chunks that are about to be reused. */
  keepRest(): void {
    if (this.length === 0) return;
    const n = this.length;
    const rest = this.drainInto(Buffer.allocUnsafe(n));
    this.push(rest);
  }

  /** Moves out.length bytes from the front of the queue into out. */
  private drainInto(out: Buffer): Buffer {
    const n = out.length;
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

const BATCH_SEGMENTS = 16;
/** Batches queued on the crypto worker at once: enough to keep it busy while the network delivers the next. */
const MAX_BATCHES_IN_FLIGHT = 4;
let nextStreamId = 1;

/**
 * A Transform whose work runs as asynchronous batches (possibly on another thread) but whose
 * output stays in order; at most a few batches are in flight, which bounds memory.
 */
abstract class BatchTransform extends Transform {
  private tail: Promise<void> = Promise.resolve();
  private inflight: Promise<void>[] = [];
  protected broken: Error | null = null;

  constructor() {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
  }

  protected schedule<T>(work: Promise<T>, deliver: (r: T) => void): void {
    work.catch(() => undefined); // its failure is handled in order, below
    const step = this.tail.then(() => work).then((r) => {
      if (!this.broken) deliver(r);
    });
    this.tail = step.catch((err: Error) => {
      if (!this.broken) {
        this.broken = err;
        this.destroy(err);
      }
    });
    this.inflight.push(this.tail);
  }

  protected async throttle(): Promise<void> {
    while (this.inflight.length > MAX_BATCHES_IN_FLIGHT) await this.inflight.shift();
  }

  protected async settle(): Promise<void> {
    await this.tail;
    this.inflight = [];
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.broken) return cb();
    this.accept(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      .then(() => this.throttle())
      .then(() => cb(), (err: Error) => cb(err));
  }

  override _flush(cb: TransformCallback): void {
    if (this.broken) return cb();
    this.finish()
      .then(() => cb(this.broken ?? undefined), (err: Error) => cb(err));
  }

  protected abstract accept(chunk: Buffer): Promise<void>;
  protected abstract finish(): Promise<void>;
}

export interface EncryptResult {
  size: number;
  sha256: string;
}

/**
 * Plaintext in, ciphertext out. A full segment is held back until at least one more byte arrives
 * (or the input ends), because only then is it known whether it is the final one.
 */
export class EncryptStream extends BatchTransform {
  private readonly queue = new ByteQueue();
  private readonly stream = nextStreamId++;
  private index = 0;
  private size = 0;
  private resultValue: EncryptResult | null = null;

  constructor(private readonly engine: CryptoEngine, private readonly dek: Buffer, private readonly header: Header) {
    super();
    this.push(header.bytes);
  }

  /** Size and SHA-256 of the plaintext; available once the stream has ended. */
  get result(): EncryptResult {
    if (!this.resultValue) throw new Error('EncryptStream.result read before the stream ended');
    return this.resultValue;
  }

  protected async accept(b: Buffer): Promise<void> {
    this.size += b.length;
    this.queue.push(b);
    const batchBytes = BATCH_SEGMENTS * this.header.segmentSize;
    // Strictly more than a batch: the byte beyond proves none of these segments is the final one.
    while (this.queue.length > batchBytes) {
      this.dispatch(this.queue.takeOwned(batchBytes), false);
      await this.throttle();
    }
  }

  protected async finish(): Promise<void> {
    const s = this.header.segmentSize;
    while (this.queue.length > BATCH_SEGMENTS * s) this.dispatch(this.queue.takeOwned(BATCH_SEGMENTS * s), false);
    this.dispatch(this.queue.takeOwned(this.queue.length), true);
    await this.settle();
  }

  /** Seals `data` as consecutive segments; with `last`, its final segment is the object's final one. */
  private dispatch(data: Buffer, last: boolean): void {
    const s = this.header.segmentSize;
    const n = Math.max(1, Math.ceil(data.length / s));
    if (this.index + n > MAX_SEGMENTS) throw new StorageError('invalid_argument', 'object too large for the segment counter');
    const segs: SegmentSpec[] = [];
    for (let i = 0; i < n; i++) {
      const index = this.index + i;
      const final = last && i === n - 1;
      const len = Math.min(s, data.length - i * s);
      segs.push({ off: i * s, len, iv: nonce(this.header, index), aad: aad(this.header, index, final ? { size: this.size, sha256: null } : null), appendDigest: final });
    }
    this.index += n;
    const size = this.size;
    this.schedule(this.engine.seal(this.stream, this.dek, data, segs), (r) => {
      for (const part of r.parts) this.push(part);
      if (last) this.resultValue = { size, sha256: r.digest!.toString('hex') };
    });
  }

  override _destroy(err: Error | null, cb: (e: Error | null) => void): void {
    if (!this.resultValue) this.engine.drop(this.stream);
    cb(err);
  }
}

/** Which ciphertext bytes cover plaintext [start, end] (inclusive), and how to trim the result. */
export interface SegmentPlan {
  firstSegment: number;
  lastSegment: number;
  /** Byte offset in the stored object where firstSegment begins. */
  offset: number;
  length: number;
  /** Plaintext bytes to drop from the first segment and to keep overall. */
  skip: number;
  take: number;
}

export function planRange(size: number, segmentSize: number, start: number, end: number): SegmentPlan {
  const stride = segmentSize + TAG_SIZE;
  const firstSegment = Math.floor(start / segmentSize);
  const lastSegment = Math.floor(end / segmentSize);
  const lastPlain = Math.min(segmentSize, size - lastSegment * segmentSize);
  return {
    firstSegment,
    lastSegment,
    offset: HEADER_SIZE + firstSegment * stride,
    length: (lastSegment - firstSegment) * stride + lastPlain + TAG_SIZE,
    skip: start - firstSegment * segmentSize,
    take: end - start + 1,
  };
}

export function fullPlan(size: number, segmentSize: number): SegmentPlan {
  const last = segmentCount(size, segmentSize) - 1;
  return { firstSegment: 0, lastSegment: last, offset: 0, length: ciphertextSize(size, segmentSize), skip: 0, take: size };
}

export interface DecryptOptions {
  /**
   * Batches segments through this engine (the crypto worker, or inline in batches). Absent: each
   * segment is opened on the calling thread as soon as its bytes are in, straight from the
   * network's chunks (measured cheaper for gets than the worker hop: docs/benchmarks.md).
   */
  engine?: CryptoEngine;
  dek: Buffer;
  header: Header;
  /** Plaintext size and SHA-256 from the object's record; both are authenticated by the final segment. */
  size: number;
  sha256: Buffer;
  plan: SegmentPlan;
  /** True when the input starts with the stored header (a full read), which must equal `header`. */
  withHeader: boolean;
  /** Context for error details. */
  objectKey: string;
}

/**
 * The plan's segments, opened on the calling thread as their bytes arrive: the reading state that
 * DecryptStream (chunks it may keep) and TransientDecryptReader (chunks it may not) share. Each
 * segment's plaintext is handed to `out` only after its tag verified; the last one only at the end
 * of the input, so that bytes after it fail the read before any of it is released.
 */
class SegmentOpener {
  readonly queue = new ByteQueue();
  index: number;
  readonly finalIndex: number;
  headerChecked: boolean;
  private skip: number;
  private remaining: number;
  /** Where a segment that spans input chunks is gathered (ciphertext only, reused). */
  private scratch: Buffer | null = null;
  /** The last segment's plaintext (batched: its batch's), released when the input ends right after it. */
  held: Buffer | null = null;

  constructor(
    readonly o: DecryptOptions,
    private readonly out: (plain: Buffer) => void,
  ) {
    this.index = o.plan.firstSegment;
    this.finalIndex = segmentCount(o.size, o.header.segmentSize) - 1;
    this.headerChecked = !o.withHeader;
    this.skip = o.plan.skip;
    this.remaining = o.plan.take;
  }

  fail(message: string, segment?: number): StorageError {
    return new StorageError('integrity_error', `${this.o.objectKey}: ${message}`, {
      details: { key: this.o.objectKey, ...(segment === undefined ? {} : { segment }) },
    });
  }

  segmentLength(i: number): number {
    const s = this.o.header.segmentSize;
    return (i === this.finalIndex ? this.o.size - i * s : s) + TAG_SIZE;
  }

  get done(): boolean {
    return this.index > this.o.plan.lastSegment;
  }

  /** Checks the stored header once enough bytes are queued; false while they are not. */
  takeHeader(): boolean {
    if (this.headerChecked) return true;
    if (this.queue.length < HEADER_SIZE) return false;
    if (!this.queue.take(HEADER_SIZE).equals(this.o.header.bytes)) throw this.fail('stored header does not match the object record');
    this.headerChecked = true;
    return true;
  }

  /**
   * Opens every complete segment in the queue, in order. A segment inside one input chunk is
   * deciphered from that chunk in place; one that spans chunks is gathered in the scratch buffer.
   * One output buffer per segment, allocated by the decipher and handed on.
   */
  openReady(): void {
    const key = this.o.dek;
    while (this.index <= this.o.plan.lastSegment) {
      const stored = this.segmentLength(this.index);
      if (this.queue.length < stored) return;
      // Sized for the largest segment this object has, and only once one spans chunks.
      const seg = this.queue.takeVia(stored, () => (this.scratch ??= Buffer.allocUnsafeSlow(Math.min(this.o.header.segmentSize, this.o.size) + TAG_SIZE)));
      const index = this.index;
      const len = stored - TAG_SIZE;
      const final = index === this.finalIndex ? { size: this.o.size, sha256: this.o.sha256 } : null;
      let plain: Buffer;
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce(this.o.header, index));
        d.setAAD(aad(this.o.header, index, final));
        d.setAuthTag(seg.subarray(len));
        plain = d.update(seg.subarray(0, len));
        d.final();
      } catch {
        throw this.fail(`segment ${index} failed authentication (tampered, reordered or damaged)`, index);
      }
      this.index++;
      if (index === this.o.plan.lastSegment) this.held = plain;
      else this.deliver(plain);
    }
  }

  /** Bytes after the plan's last segment fail the read. */
  checkTrailing(): void {
    if (this.done && this.queue.length > 0) throw this.fail('unexpected bytes after the final segment');
  }

  /** The input ended: fails when segments are missing, else releases the held last segment. */
  end(): void {
    if (!this.headerChecked || !this.done) {
      throw this.fail(`content is truncated (segment ${this.index} of ${this.finalIndex + 1} missing or short)`, this.index);
    }
    if (this.held) this.deliver(this.held);
    this.held = null;
  }

  /** Hands on authenticated plaintext, less what the range skips at the start and drops at the end. */
  deliver(plain: Buffer): void {
    if (this.skip > 0) {
      const k = Math.min(this.skip, plain.length);
      plain = plain.subarray(k);
      this.skip -= k;
    }
    if (plain.length > this.remaining) plain = plain.subarray(0, this.remaining);
    this.remaining -= plain.length;
    if (plain.length > 0) this.out(plain);
  }
}

/**
 * Ciphertext in, plaintext out, for the segments named by the plan. Fails with integrity_error on
 * the first segment that does not authenticate, on missing bytes and on trailing bytes; the
 * plaintext of segments before the failure may be emitted, nothing from it or after it.
 */
export class DecryptStream extends BatchTransform {
  private readonly s: SegmentOpener;
  /**
   * Segments per batch: starts at one and doubles up to BATCH_SEGMENTS, so decryption starts with
   * the first segment off the network and overlaps the rest of the read (a 1 MB object used to
   * wait for all of its 16 segments before the first was decrypted).
   */
  private batchCap = 1;

  constructor(private readonly o: DecryptOptions) {
    super();
    this.s = new SegmentOpener(o, (plain) => this.push(plain));
  }

  protected async accept(chunk: Buffer): Promise<void> {
    const s = this.s;
    s.queue.push(chunk);
    if (!s.takeHeader()) return;
    if (!this.o.engine) {
      s.openReady();
    } else for (;;) {
      const { count, bytes } = this.available();
      if (count === 0 || (count < this.batchCap && s.index + count <= this.o.plan.lastSegment)) break;
      this.dispatch(count, bytes);
      await this.throttle();
    }
    if (s.done && s.queue.length > 0) {
      await this.settle();
      s.checkTrailing();
    }
  }

  /** Complete segments waiting in the queue, up to one batch. */
  private available(): { count: number; bytes: number } {
    const s = this.s;
    let count = 0;
    let bytes = 0;
    while (count < this.batchCap && s.index + count <= this.o.plan.lastSegment) {
      const len = s.segmentLength(s.index + count);
      if (bytes + len > s.queue.length) break;
      bytes += len;
      count++;
    }
    return { count, bytes };
  }

  protected async finish(): Promise<void> {
    if (this.s.headerChecked && this.o.engine) {
      for (let a = this.available(); a.count > 0; a = this.available()) this.dispatch(a.count, a.bytes);
    }
    await this.settle();
    if (this.broken) return;
    this.s.end();
  }

  private dispatch(count: number, bytes: number): void {
    const s = this.s;
    const first = s.index;
    this.batchCap = Math.min(BATCH_SEGMENTS, this.batchCap * 2);
    const data = s.queue.takeOwned(bytes);
    const segs: SegmentSpec[] = [];
    let off = 0;
    for (let i = 0; i < count; i++) {
      const index = first + i;
      const stored = s.segmentLength(index);
      const final = index === s.finalIndex ? { size: this.o.size, sha256: this.o.sha256 } : null;
      segs.push({ off, len: stored - TAG_SIZE, iv: nonce(this.o.header, index), aad: aad(this.o.header, index, final) });
      off += stored;
    }
    s.index += count;
    const holdsLast = first + count - 1 === this.o.plan.lastSegment;
    this.schedule(this.o.engine!.open(this.o.dek, data, segs), (r) => {
      // One buffer per batch (its authenticated segments, decrypted in place): one push, and a
      // reader that reads everything buffered gets it without a concatenation. The batch with
      // the last segment waits for the end of the input, as in direct mode.
      if (holdsLast && r.failed < 0) s.held = r.plain;
      else s.deliver(r.plain);
      if (r.failed >= 0) throw s.fail(`segment ${first + r.failed} failed authentication (tampered, reordered or damaged)`, first + r.failed);
    });
  }
}

/**
 * Where a TransientDecryptReader gets its ciphertext: a source that reads into one buffer it
 * reuses (storage/direct-get.ts), so each chunk is valid only during the `data` call.
 */
export interface TransientSource {
  start(sink: { data(chunk: Buffer): void; end(): void; error(err: Error): void }): void;
  pause(): void;
  resume(): void;
  destroy(): void;
}

/**
 * Plaintext of a TransientSource's ciphertext, segments opened on the calling thread as in
 * DecryptStream's direct mode. Every chunk is consumed before `data` returns: complete segments
 * are deciphered from it, and the incomplete rest (under one segment) is copied out. The point is
 * garbage: an HTTP client allocates a buffer per 64 KiB read, and with the plaintext's own buffers
 * that doubled the memory a large get churns, whose collections cost more CPU than the decryption
 * (docs/benchmarks.md, bench:storage 2026-12-03 morning).
 */
export class TransientDecryptReader extends Readable {
  private readonly s: SegmentOpener;
  private failed = false;

  constructor(
    o: DecryptOptions,
    private readonly source: TransientSource,
  ) {
    super({ highWaterMark: 1024 * 1024 });
    this.s = new SegmentOpener(o, (plain) => {
      if (!this.push(plain)) this.source.pause();
    });
    source.start({
      data: (chunk) => this.data(chunk),
      end: () => this.guarded(() => {
        this.s.end();
        this.push(null);
      }),
      error: (err) => this.guarded(() => {
        throw err;
      }),
    });
  }

  private data(chunk: Buffer): void {
    this.guarded(() => {
      const s = this.s;
      s.queue.push(chunk);
      if (s.takeHeader()) {
        s.openReady();
        s.checkTrailing();
      }
      s.queue.keepRest();
    });
  }

  private guarded(fn: () => void): void {
    if (this.failed || this.destroyed) return;
    try {
      fn();
    } catch (err) {
      this.failed = true;
      this.destroy(err as Error);
    }
  }

  override _read(): void {
    this.source.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.source.destroy();
    cb(err);
  }
}
