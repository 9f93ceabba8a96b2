/**
 * The decrypting stream in each of its modes: direct (each segment opened on the calling thread
 * from the network's chunks, the default for gets), batched on the calling thread, and batched on
 * the crypto worker (batch buffers from a pool). Whatever the chunking of the ciphertext, each
 * must release a segment's plaintext only after its tag verified, and no chunk it hands out may
 * carry another object's bytes in its backing memory.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createMemoryBlobStore, createMemoryKeyring, type Keyring, type StorageError } from '../../../storage';
import { cryptoEngine, type CryptoEngine } from '../../../storage/crypto-engine';
import { DecryptStream, EncryptStream, HEADER_SIZE, TAG_SIZE, TransientDecryptReader, fullPlan, newHeader, planRange, type Header, type SegmentPlan, type TransientSource } from '../../../storage/envelope';
import { randomBuffer, readAll, readUntilError } from '../../integration/storage/helpers';

const S = 4096; // small segments: many of them, and chunkings that split them every way
const STRIDE = S + TAG_SIZE;

interface Sealed {
  header: Header;
  dek: Buffer;
  data: Buffer;
  stored: Buffer;
  sha256: Buffer;
}

async function seal(data: Buffer, segmentSize = S): Promise<Sealed> {
  const dek = randomBytes(32);
  const header = newHeader(segmentSize);
  const enc = new EncryptStream(cryptoEngine(false), dek, header);
  const out = readAll(enc);
  await pipeline(Readable.from([data], { objectMode: false }), enc);
  const stored = await out;
  return { header, dek, data, stored, sha256: Buffer.from(enc.result.sha256, 'hex') };
}

function chunked(b: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

/**
 * A source like direct-get.ts: every part is copied into one buffer, handed over, and the buffer
 * is then overwritten with 0xee, so a reader that kept a reference to it would return garbage.
 * Parts after the first `now` ones arrive 50 ms later.
 */
class ReusedBufferSource implements TransientSource {
  private readonly buf: Buffer;
  private next = 0;
  private paused = false;
  private stopped = false;
  private sink: Parameters<TransientSource['start']>[0] | null = null;
  pauses = 0;

  constructor(
    private readonly parts: Buffer[],
    private now = Infinity,
  ) {
    this.buf = Buffer.alloc(Math.max(1, ...parts.map((p) => p.length)));
  }

  start(sink: Parameters<TransientSource['start']>[0]): void {
    this.sink = sink;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    while (!this.paused && !this.stopped && this.sink) {
      if (this.next === this.parts.length) {
        this.stopped = true;
        this.sink.end();
        return;
      }
      if (this.next === this.now) {
        this.now = Infinity;
        setTimeout(() => this.pump(), 50);
        return;
      }
      const part = this.parts[this.next++]!;
      part.copy(this.buf);
      this.sink.data(this.buf.subarray(0, part.length));
      this.buf.fill(0xee);
    }
  }

  pause(): void {
    this.paused = true;
    this.pauses++;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    setImmediate(() => this.pump());
  }

  destroy(): void {
    this.stopped = true;
  }
}

function parts(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) out.push(b.subarray(i, i + size));
  return out;
}

/** 'transient': TransientDecryptReader over a ReusedBufferSource; the others are DecryptStream modes. */
const modes: [string, CryptoEngine | undefined | 'transient'][] = [
  ['direct', undefined],
  ['batched inline', cryptoEngine(false)],
  ['batched on the worker', cryptoEngine(true)],
  ['transient chunks (a source that reuses its buffer)', 'transient'],
];

function decrypt(s: Sealed, engine: CryptoEngine | undefined | 'transient', chunk: number, plan?: SegmentPlan): Readable {
  const opts = { dek: s.dek, header: s.header, size: s.data.length, sha256: s.sha256, plan: plan ?? fullPlan(s.data.length, s.header.segmentSize), withHeader: !plan, objectKey: 'k' };
  const src = plan ? s.stored.subarray(plan.offset, plan.offset + plan.length) : s.stored;
  if (engine === 'transient') return new TransientDecryptReader(opts, new ReusedBufferSource(parts(src, chunk)));
  const dec = new DecryptStream({ engine, ...opts });
  chunked(src, chunk).pipe(dec);
  return dec;
}

describe('storage: decrypt stream modes', function () {
  this.timeout(30_000);
  // Whole; one byte short of and just past a stored segment; tiny; and large uneven chunks.
  const chunkings = [Infinity, STRIDE - 1, STRIDE + 1, 7, 20_000];

  for (const [mode, engine] of modes) {
    describe(mode, () => {
      it('round-trips sizes around segment boundaries under every chunking', async () => {
        for (const size of [0, 1, S - 1, S, S + 1, 17 * S + 5]) {
          const s = await seal(await randomBuffer(size, size + 1));
          for (const chunk of chunkings) {
            const got = await readAll(decrypt(s, engine, Math.min(chunk, s.stored.length)));
            assert.ok(got.equals(s.data), `size ${size}, chunks of ${chunk}`);
          }
        }
      });

      it('serves ranges', async () => {
        const s = await seal(await randomBuffer(20 * S + 9, 3));
        for (const [start, end] of [[0, 0], [S - 1, S], [5, 19 * S], [20 * S, 20 * S + 8], [3 * S + 1, 3 * S + 1]] as const) {
          for (const chunk of [STRIDE + 1, 7]) {
            const got = await readAll(decrypt(s, engine, chunk, planRange(s.data.length, S, start, end)));
            assert.ok(got.equals(s.data.subarray(start, end + 1)), `${start}-${end}, chunks of ${chunk}`);
          }
        }
      });

      it('releases nothing of a tampered segment or after it, even with every byte already there', async () => {
        const s = await seal(await randomBuffer(12 * S, 4));
        for (const [segment, at] of [[5, 10], [5, S + 3], [0, 0]] as const) {
          const stored = Buffer.from(s.stored);
          // at < S: ciphertext byte; at ≥ S: tag byte.
          const i = HEADER_SIZE + segment * STRIDE + at;
          stored[i] = stored[i]! ^ 0x80;
          for (const chunk of [Infinity, STRIDE + 1, 7]) {
            const { got, err } = await readUntilError(decrypt({ ...s, stored }, engine, Math.min(chunk, stored.length)));
            assert.equal((err as StorageError).code, 'integrity_error', `segment ${segment} at ${at}, chunks of ${chunk}`);
            assert.equal((err as StorageError).details.segment, segment);
            assert.ok(got.length <= segment * S, `released ${got.length} bytes before segment ${segment}`);
            assert.ok(got.equals(s.data.subarray(0, got.length)));
          }
        }
      });

      it('detects truncation, swapped segments and trailing bytes', async () => {
        const s = await seal(await randomBuffer(6 * S + 100, 5));
        const truncated = s.stored.subarray(0, s.stored.length - (100 + TAG_SIZE));
        const swapped = Buffer.from(s.stored);
        s.stored.copy(swapped, HEADER_SIZE + STRIDE, HEADER_SIZE + 2 * STRIDE, HEADER_SIZE + 3 * STRIDE);
        s.stored.copy(swapped, HEADER_SIZE + 2 * STRIDE, HEADER_SIZE + STRIDE, HEADER_SIZE + 2 * STRIDE);
        const longer = Buffer.concat([s.stored, Buffer.from([0])]);
        for (const [stored, before] of [[truncated, 6 * S], [swapped, S], [longer, 6 * S]] as const) {
          for (const chunk of [Infinity, STRIDE + 1, 7]) {
            const { got, err } = await readUntilError(decrypt({ ...s, stored }, engine, Math.min(chunk, stored.length)));
            assert.equal((err as StorageError).code, 'integrity_error');
            // With bytes appended, the final segment authenticates but is not released either.
            assert.ok(got.length <= before, `released ${got.length} bytes, more than the ${before} before the damage`);
            assert.ok(got.equals(s.data.subarray(0, got.length)));
          }
        }
      });

      it('releases nothing of the last segment when bytes follow it in a later chunk', async () => {
        const s = await seal(await randomBuffer(40 * S + 3, 7));
        for (const tail of [Buffer.from([0]), Buffer.alloc(STRIDE)]) {
          const opts = { dek: s.dek, header: s.header, size: s.data.length, sha256: s.sha256, plan: fullPlan(s.data.length, S), withHeader: true, objectKey: 'k' };
          let dec: Readable;
          if (engine === 'transient') {
            dec = new TransientDecryptReader(opts, new ReusedBufferSource([s.stored, tail], 1));
          } else {
            const d = new DecryptStream({ engine, ...opts });
            const src = new Readable({ read() {} });
            src.pipe(d);
            src.push(s.stored);
            // The rest arrives later, after everything before it has been processed.
            setTimeout(() => {
              src.push(tail);
              src.push(null);
            }, 50);
            dec = d;
          }
          const { got, err } = await readUntilError(dec);
          assert.equal((err as StorageError).code, 'integrity_error');
          assert.ok(got.length <= 40 * S, `released ${got.length} bytes, the last segment among them`);
          assert.ok(got.equals(s.data.subarray(0, got.length)));
        }
      });

      it('reads objects written with other segment sizes (the size is in each object\'s header)', async () => {
        for (const seg of [1024, 64 * 1024, 1024 * 1024]) {
          const s = await seal(await randomBuffer(3 * seg + 11, seg), seg);
          assert.ok((await readAll(decrypt(s, engine, 20_000))).equals(s.data), `segment size ${seg}`);
        }
      });
    });
  }

  it('transient chunks: a reader that stops reading pauses the source, and gets everything once it reads on', async () => {
    const s = await seal(await randomBuffer(300 * S + 5, 11));
    const source = new ReusedBufferSource(parts(s.stored, 20_000));
    const dec = new TransientDecryptReader({ dek: s.dek, header: s.header, size: s.data.length, sha256: s.sha256, plan: fullPlan(s.data.length, S), withHeader: true, objectKey: 'k' }, source);
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(source.pauses > 0, 'the source was paused while nobody read');
    assert.ok(dec.readableLength <= 1024 * 1024 + 20_000, `buffered ${dec.readableLength} bytes`);
    assert.ok((await readAll(dec)).equals(s.data));
  });

  describe('no chunk handed out carries another object\'s bytes in its memory', () => {
    let keyring: Keyring;
    before(async () => {
      keyring = await createMemoryKeyring();
    });

    /** The longest run of `marker` bytes anywhere in the memory behind a chunk. */
    function longestRun(chunk: Buffer, marker: number): number {
      const all = new Uint8Array(chunk.buffer, 0, chunk.buffer.byteLength);
      let best = 0;
      let run = 0;
      for (const b of all) {
        run = b === marker ? run + 1 : 0;
        if (run > best) best = run;
      }
      return best;
    }

    for (const decryptThreads of [false, true]) {
      it(`after a put through the worker, a get ${decryptThreads ? 'batched on the worker' : 'decrypted directly'}`, async () => {
        const store = await createMemoryBlobStore({ keyring, cryptoThreads: true, decryptThreads });
        // A: 4 MiB of one byte value, sealed on the worker in 1 MiB batches that go back to the pool.
        const marker = 0xa5;
        const secret = Buffer.alloc(4 * 1024 * 1024, marker);
        await store.put('a', Readable.from([secret], { objectMode: false }));
        // B: random, over 2 MiB so a batched get runs on the worker, and ending in a short batch
        // that fits a pooled 1 MiB buffer with room to spare.
        const data = await randomBuffer(40 * 65536 + 9, 6);
        await store.put('b', data);
        const chunks: Buffer[] = [];
        for await (const c of await store.get('b')) chunks.push(c as Buffer);
        assert.ok(Buffer.concat(chunks).equals(data));
        for (const c of chunks) assert.ok(longestRun(c, marker) < 32, 'a chunk of B shares memory with A\'s plaintext');
      });
    }
  });
});
