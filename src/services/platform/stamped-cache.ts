/**
 * Per-process caches that stay true across processes: a worker process keeps filing with the
 * classifier it loaded until another process (the API, where archivists correct items) changes
 * it; the change writes a new stamp in the database and every holder rebuilds on its next use.
 * One point read per use, negligible beside the work the cached thing serves (OCR, filing).
 */
import { randomUUID } from 'node:crypto';
import { cacheStampModel } from '../../models/cache-stamp.model';
import type { Runtime } from '../../runtime';

async function currentStamp(rt: Runtime, name: string): Promise<string> {
  return (await cacheStampModel(rt.db).findById(name).lean())?.stamp ?? 'none';
}

/** Tells every process that the cache `name` is out of date. */
export async function invalidateEverywhere(rt: Runtime, name: string): Promise<void> {
  await cacheStampModel(rt.db).replaceOne({ _id: name }, { _id: name, stamp: randomUUID(), at: new Date() }, { upsert: true });
}

/** A value built by `load`, rebuilt whenever any process invalidated `name` since it was built. */
export function stampedCache<T>(name: string, load: (rt: Runtime) => Promise<T>): (rt: Runtime) => Promise<T> {
  const held = new WeakMap<Runtime, { stamp: string; value: Promise<T> }>();
  return async (rt) => {
    // The stamp is read before loading: a change racing the load leaves a newer stamp, so the
    // next use rebuilds rather than keeping a value that may have missed it.
    const stamp = await currentStamp(rt, name);
    const h = held.get(rt);
    if (h && h.stamp === stamp) return h.value;
    const value = load(rt);
    value.catch(() => held.delete(rt));
    held.set(rt, { stamp, value });
    return value;
  };
}
