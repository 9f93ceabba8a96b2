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
 * sees a byte of a segment that does not authenticate.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError } from './errors';

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

function aad(header: Header, index: number, final: { size: number; sha256: Buffer } | null): Buffer {
  const tail = Buffer.alloc(9 + (final ? 8 + 32 : 0));
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail.writeUInt8(final ? 1 : 0, 8);
  if (final) {
    tail.writeBigUInt64BE(BigInt(final.size), 9);
    final.sha256.copy(tail, 17);
  }
  return Buffer.concat([header.bytes, tail]);
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
    const out = Buffer.allocUnsafe(n);
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

export interface EncryptResult {
  size: number;
  sha256: string;
}

/**
 * Plaintext in, ciphertext out. A full segment is held back until at least one more byte arrives
 * (or the input ends), because only then is it known whether it is the final one.
 */
export class EncryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private readonly hash: Hash = createHash('sha256');
  private index = 0;
  private size = 0;
  private resultValue: EncryptResult | null = null;

  constructor(private readonly dek: Buffer, private readonly header: Header) {
    super({ readableHighWaterMark: 1024 * 1024 });
    this.push(header.bytes);
  }

  /** Size and SHA-256 of the plaintext; available once the stream has ended. */
  get result(): EncryptResult {
    if (!this.resultValue) throw new Error('EncryptStream.result read before the stream ended');
    return this.resultValue;
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.hash.update(b);
      this.size += b.length;
      this.queue.push(b);
      const s = this.header.segmentSize;
      while (this.queue.length > s) this.seal(this.queue.take(s), null);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      const digest = this.hash.digest();
      this.seal(this.queue.take(this.queue.length), { size: this.size, sha256: digest });
      this.resultValue = { size: this.size, sha256: digest.toString('hex') };
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private seal(plain: Buffer, final: { size: number; sha256: Buffer } | null): void {
    if (this.index >= MAX_SEGMENTS) throw new StorageError('invalid_argument', 'object too large for the segment counter');
    const c = createCipheriv('aes-256-gcm', this.dek, nonce(this.header, this.index));
    c.setAAD(aad(this.header, this.index, final));
    const body = c.update(plain);
    c.final();
    this.push(Buffer.concat([body, c.getAuthTag()]));
    this.index++;
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
 * Ciphertext in, plaintext out, for the segments named by the plan. Fails with integrity_error on
 * the first segment that does not authenticate, on missing bytes and on trailing bytes.
 */
export class DecryptStream extends Transform {
  private readonly queue = new ByteQueue();
  private index: number;
  private readonly finalIndex: number;
  private headerChecked: boolean;
  private skip: number;
  private remaining: number;

  constructor(private readonly o: DecryptOptions) {
    super({ readableHighWaterMark: 1024 * 1024 });
    this.index = o.plan.firstSegment;
    this.finalIndex = segmentCount(o.size, o.header.segmentSize) - 1;
    this.headerChecked = !o.withHeader;
    this.skip = o.plan.skip;
    this.remaining = o.plan.take;
  }

  private fail(message: string, segment?: number): StorageError {
    return new StorageError('integrity_error', `${this.o.objectKey}: ${message}`, {
      details: { key: this.o.objectKey, ...(segment === undefined ? {} : { segment }) },
    });
  }

  private segmentLength(i: number): number {
    const s = this.o.header.segmentSize;
    return (i === this.finalIndex ? this.o.size - i * s : s) + TAG_SIZE;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.queue.push(chunk);
    try {
      if (!this.headerChecked) {
        if (this.queue.length < HEADER_SIZE) return cb();
        if (!this.queue.take(HEADER_SIZE).equals(this.o.header.bytes)) throw this.fail('stored header does not match the object record');
        this.headerChecked = true;
      }
      while (this.index <= this.o.plan.lastSegment && this.queue.length >= this.segmentLength(this.index)) {
        this.open(this.queue.take(this.segmentLength(this.index)));
      }
      if (this.index > this.o.plan.lastSegment && this.queue.length > 0) throw this.fail('unexpected bytes after the final segment');
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (!this.headerChecked || this.index <= this.o.plan.lastSegment) {
      return cb(this.fail(`content is truncated (segment ${this.index} of ${this.finalIndex + 1} missing or short)`, this.index));
    }
    cb();
  }

  private open(sealed: Buffer): void {
    const i = this.index;
    const final = i === this.finalIndex ? { size: this.o.size, sha256: this.o.sha256 } : null;
    const body = sealed.subarray(0, sealed.length - TAG_SIZE);
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-256-gcm', this.o.dek, nonce(this.o.header, i));
      d.setAAD(aad(this.o.header, i, final));
      d.setAuthTag(sealed.subarray(sealed.length - TAG_SIZE));
      // Held until final() has checked the tag.
      plain = d.update(body);
      d.final();
    } catch {
      throw this.fail(`segment ${i} failed authentication (tampered, reordered or damaged)`, i);
    }
    this.index++;
    if (this.skip > 0) {
      plain = plain.subarray(this.skip);
      this.skip = 0;
    }
    if (plain.length > this.remaining) plain = plain.subarray(0, this.remaining);
    this.remaining -= plain.length;
    if (plain.length > 0) this.push(plain);
  }
}
