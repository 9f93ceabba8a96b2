/**
 * MongoDB connection through mongoose. Works against FerretDB 1.24 (local, CI) and MongoDB 7+
 * (production). The code base relies on none of the features FerretDB 1.x lacks: multi-document
 * transactions and sessions, $lookup, $facet, text indexes, TTL indexes, change streams.
 */
import { createHash } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { AppError } from './errors';

export async function connectDb(uri: string, opts: { timeoutMs: number }): Promise<Connection> {
  const conn = mongoose.createConnection(uri, {
    serverSelectionTimeoutMS: opts.timeoutMs,
    connectTimeoutMS: opts.timeoutMs,
    // Index builds happen explicitly at boot (ensureIndexes) so a failure is visible there.
    autoIndex: false,
    autoCreate: true,
  });
  try {
    await conn.asPromise();
    await conn.db?.admin().ping();
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw new AppError('service_unavailable', {
      message: `MongoDB is not reachable at ${redactUri(uri)}: ${(err as Error).message}. Start the local services with "npm run services:up" or set MONGODB_URI.`,
      zh: `无法连接 MongoDB（${redactUri(uri)}）。请先运行 "npm run services:up" 启动本地服务，或设置 MONGODB_URI。`,
      cause: err,
    });
  }
  return conn;
}

/**
 * Builds every registered model's indexes; run at boot and in tests. A fingerprint of the index
 * definitions is kept in `system_meta`: a start whose models declare the indexes already built
 * skips the sync (a round trip per model, ~0.25 s of every CLI command on FerretDB). A dropped
 * database drops the fingerprint with it; `force` rebuilds regardless.
 */
export async function ensureIndexes(conn: Connection, opts: { force?: boolean } = {}): Promise<void> {
  const models = Object.values(conn.models).sort((a, b) => a.modelName.localeCompare(b.modelName));
  const fingerprint = createHash('sha256')
    .update(JSON.stringify(models.map((m) => [m.modelName, m.collection.collectionName, m.schema.indexes()])))
    .digest('hex');
  const meta = conn.collection<{ _id: string; fingerprint: string; at: Date }>('system_meta');
  if (!opts.force && (await meta.findOne({ _id: 'indexes' }))?.fingerprint === fingerprint) return;
  for (const model of models) {
    await model.createCollection().catch(() => undefined);
    await model.syncIndexes();
  }
  await meta.replaceOne({ _id: 'indexes' }, { fingerprint, at: new Date() }, { upsert: true });
}

export async function pingDb(conn: Connection): Promise<void> {
  if (conn.readyState !== 1 || !conn.db) throw new Error('not connected');
  await conn.db.admin().ping();
}

export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]*)@/, '//***@');
}

/**
 * A unique-key violation (E11000), from a single write or inside a bulk write's errors. Every
 * exclusive step in this code base is an insert into a uniquely keyed collection (FerretDB's
 * conditional updates are not atomic), so this is how "someone else got there first" reads.
 */
export function isDuplicateKey(err: unknown): boolean {
  const e = err as { code?: number; writeErrors?: Array<{ code?: number; err?: { code?: number } }> } | null | undefined;
  return e?.code === 11000 || (Array.isArray(e?.writeErrors) && e.writeErrors.some((w) => (w.code ?? w.err?.code) === 11000));
}
