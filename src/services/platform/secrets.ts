/**
 * Keys the application derives its keyed hashes from (classifier features, the search index, the
 * blind indexes and sealed fields of items). Kept as an encrypted object in the blob store, so it
 * is protected by the same key-encryption keys as the archive and never sits in the database.
 */
import { randomBytes } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';

const cache = new WeakMap<Runtime, Promise<Buffer>>();
const KEY_OBJECT = 'system/index-key';
/** How long a process waits for another one that claimed the creation of the key. */
const CREATE_WAIT_MS = 30_000;

function notFound(err: unknown): boolean {
  return (err as { code?: string }).code === 'object_not_found';
}

async function read(rt: Runtime): Promise<Buffer | null> {
  try {
    return await rt.storage.blobs.getBuffer(KEY_OBJECT);
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

/**
 * Creates the key exactly once. Two processes starting together on a fresh install (API and
 * worker) must not each write a key: items sealed under the loser's key would be unreadable. The
 * blob store has no create-if-absent, so a unique insert in the database elects the creator
 * (inserts against a unique key are atomic on FerretDB 1.24, see ARCHITECTURE.md).
 */
async function create(rt: Runtime): Promise<Buffer> {
  const claims = rt.db.collection<{ _id: string; at: Date }>('key_claims');
  try {
    await claims.insertOne({ _id: KEY_OBJECT, at: new Date() });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const deadline = Date.now() + CREATE_WAIT_MS;
    while (Date.now() < deadline) {
      const key = await read(rt);
      if (key) return key;
      await new Promise((r) => setTimeout(r, 200));
    }
    // The creator died between its claim and its write: free the claim for the next start.
    const claim = await claims.findOne({ _id: KEY_OBJECT });
    if (claim && Date.now() - claim.at.getTime() > CREATE_WAIT_MS) await claims.deleteOne({ _id: KEY_OBJECT, at: claim.at });
    throw new AppError('service_unavailable', { message: 'Another process is creating the application key; try again', zh: '另一进程正在创建应用密钥，请稍后重试' });
  }
  const existing = await read(rt);
  if (existing) return existing; // created before claims existed
  await rt.storage.blobs.put(KEY_OBJECT, randomBytes(32), { contentType: 'application/octet-stream' });
  return (await read(rt))!;
}

export function indexKey(rt: Runtime): Promise<Buffer> {
  let p = cache.get(rt);
  if (!p) {
    p = (async () => (await read(rt)) ?? create(rt))();
    p.catch(() => cache.delete(rt));
    cache.set(rt, p);
  }
  return p;
}
