/**
 * What an operator watches (docs/operations.md): the gauges sampled from the database on each
 * Prometheus scrape, and readiness checks that mean something — the keystore opens this archive,
 * the database and the object store accept writes, the worker pool is not wedged.
 */
import { hostname } from 'node:os';
import { itemModel } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { lastGoodRun } from './common';

const PROBE_ID = `${hostname()}:${process.pid}`;
/** The object whose data key every archive has: readable only with this archive's KEKs. */
const KEY_OBJECT = 'system/index-key';

export interface ReadinessCheckDef {
  name: string;
  check: () => Promise<void>;
}

/** Gauges sampled on scrape: queue depth and age by job kind, items by state, last good runs. */
export function installOperationalMetrics(rt: Runtime): void {
  const m = rt.metrics;
  m.samplers.push(async () => {
    const counts = await rt.queue.counts();
    m.queueDepth.reset();
    for (const c of counts) m.queueDepth.set({ name: c.name, state: c.state }, c.count);
    const now = Date.now();
    m.queueAge.reset();
    // One sorted point query per job kind ($min in $group is not implemented by FerretDB 1.24).
    for (const name of new Set(counts.map((c) => c.name))) {
      const oldest = await rt.queue.jobs.find({ name, state: 'queued', runAt: { $lte: new Date(now) } }, { runAt: 1 }).sort({ runAt: 1 }).limit(1).lean();
      m.queueAge.set({ name }, oldest[0] ? Math.max(0, (now - new Date(oldest[0].runAt).getTime()) / 1000) : 0);
    }
  });
  m.samplers.push(async () => {
    const rows = await itemModel(rt.db).aggregate<{ _id: string; n: number }>([{ $group: { _id: '$status', n: { $sum: 1 } } }]);
    m.items.reset();
    for (const r of rows) m.items.set({ status: r._id }, r.n);
  });
  m.samplers.push(async () => {
    for (const kind of ['four-properties', 'backup', 'fsck'] as const) {
      const run = await lastGoodRun(rt.db, kind);
      if (run?.finishedAt) m.lastSuccess.set({ kind }, Math.floor(new Date(run.finishedAt).getTime() / 1000));
    }
  });
}

/** Readiness checks beyond "reachable": see the file comment. */
export function operationalReadiness(rt: Runtime): ReadinessCheckDef[] {
  let keysVerifiedAt = 0;
  return [
    {
      name: 'keystore_matches_archive',
      check: async () => {
        if (Date.now() - keysVerifiedAt < 60_000) return;
        let kekId: string;
        try {
          kekId = (await rt.storage.blobs.stat(KEY_OBJECT)).kekId;
        } catch (err) {
          if ((err as { code?: string }).code === 'object_not_found') return; // a new archive: nothing sealed yet
          throw err;
        }
        if (!rt.storage.keyring.has(kekId)) {
          throw new Error(`the keystore does not hold ${kekId}, the key-encryption key this archive's objects are wrapped with: wrong keystore (restore the keystore backup)`);
        }
        await rt.storage.blobs.getBuffer(KEY_OBJECT); // unwraps: proves the private key is the right one
        keysVerifiedAt = Date.now();
      },
    },
    {
      name: 'mongodb_writable',
      check: async () => {
        await rt.db.collection('readiness_probe').replaceOne({ _id: PROBE_ID as never }, { at: new Date() }, { upsert: true });
      },
    },
    {
      name: 'minio_writable',
      check: async () => {
        await rt.storage.blobs.put(`system/readiness/${PROBE_ID.replace(/[^A-Za-z0-9._-]/g, '_')}`, Buffer.from(new Date().toISOString()));
      },
    },
    {
      name: 'workers_not_wedged',
      check: async () => {
        const cutoff = new Date(Date.now() - rt.config.wedgedAfterMs);
        const waiting = await rt.queue.jobs.findOne({ state: 'queued', runAt: { $lt: cutoff } }, { _id: 1, name: 1, runAt: 1 }).lean();
        if (!waiting) return;
        const moved = await rt.queue.jobs.findOne({ state: { $in: ['running', 'done', 'failed'] }, updatedAt: { $gt: cutoff } }, { _id: 1 }).lean();
        if (moved) return;
        const workers = await rt.queue.liveWorkers(waiting.name, 60_000);
        throw new Error(
          `worker pool wedged: job ${String(waiting._id)} (${waiting.name}) due since ${waiting.runAt.toISOString()} and no job has moved for ${Math.round(rt.config.wedgedAfterMs / 60_000)} min (${workers} live worker(s) for ${waiting.name})`,
        );
      },
    },
  ];
}
