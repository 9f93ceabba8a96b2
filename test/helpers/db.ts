import type { Connection } from 'mongoose';
import { connectDb, ensureIndexes } from '../../src/db';
import { ensureTestServices, testMongoUri } from './services';

/** A connection to a fresh database on the real test FerretDB; dropped by dropTestDb. */
export async function openTestDb(prefix = 't'): Promise<Connection> {
  ensureTestServices();
  return connectDb(testMongoUri(prefix), { timeoutMs: 5000 });
}

export async function prepareModels(conn: Connection): Promise<void> {
  await ensureIndexes(conn);
}

export async function dropTestDb(conn: Connection | undefined): Promise<void> {
  if (!conn) return;
  await conn.dropDatabase().catch(() => undefined);
  await conn.close();
}
