/** Shared bits for the storage specs: deterministic pseudo-random content and raw bucket access. */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import * as Minio from 'minio';

/** `size` bytes of AES-CTR keystream for `seed`: incompressible, reproducible, generated as it is read. */
export function randomStream(size: number, seed = 1, chunk = 256 * 1024): Readable {
  const key = createHash('sha256').update(`seed:${seed}`).digest();
  const ctr = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(chunk);
  let left = size;
  return new Readable({
    highWaterMark: chunk,
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(chunk, left);
      left -= n;
      this.push(ctr.update(n === chunk ? zeros : zeros.subarray(0, n)));
    },
  });
}

export async function randomBuffer(size: number, seed = 1): Promise<Buffer> {
  return readAll(randomStream(size, seed));
}

export async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function sha256Of(s: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const c of s) h.update(c as Buffer);
  return h.digest('hex');
}

/** Reads until the stream fails; returns what arrived before the failure and the error. */
export async function readUntilError(s: Readable): Promise<{ got: Buffer; err: unknown }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of s) chunks.push(c as Buffer);
  } catch (err) {
    return { got: Buffer.concat(chunks), err };
  }
  return { got: Buffer.concat(chunks), err: null };
}

export async function listVersions(client: Minio.Client, bucket: string, prefix: string): Promise<{ name?: string; versionId?: string }[]> {
  const out: { name?: string; versionId?: string }[] = [];
  for await (const it of client.listObjects(bucket, prefix, true, { IncludeVersion: true }) as AsyncIterable<{ name?: string; versionId?: string }>) out.push(it);
  return out;
}

export async function removeBucket(client: Minio.Client, bucket: string): Promise<void> {
  for (const v of await listVersions(client, bucket, '')) {
    if (v.name) await client.removeObject(bucket, v.name, v.versionId ? { versionId: v.versionId } : {}).catch(() => undefined);
  }
  await client.removeBucket(bucket).catch(() => undefined);
}
