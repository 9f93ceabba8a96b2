/**
 * Keys the application derives its keyed hashes from (classifier features now; the search index
 * and blind indexes later). Kept as an encrypted object in the blob store, so it is protected by
 * the same key-encryption keys as the archive and never sits in the database.
 */
import { randomBytes } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import type { Runtime } from '../runtime';

const cache = new WeakMap<Runtime, Promise<Buffer>>();
const KEY_OBJECT = 'system/index-key';

export function indexKey(rt: Runtime): Promise<Buffer> {
  let p = cache.get(rt);
  if (!p) {
    p = (async () => {
      try {
        return await buffer(await rt.storage.blobs.get(KEY_OBJECT));
      } catch (err) {
        if ((err as { code?: string }).code !== 'object_not_found') throw err;
        const key = randomBytes(32);
        await rt.storage.blobs.put(KEY_OBJECT, key, { contentType: 'application/octet-stream' });
        // Two processes may race to create it: whoever wrote last wins, and everyone re-reads that.
        return buffer(await rt.storage.blobs.get(KEY_OBJECT));
      }
    })();
    p.catch(() => cache.delete(rt));
    cache.set(rt, p);
  }
  return p;
}
