import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One row per cache that processes keep in memory (the learned classifier …). A process that
 * changes what the cache is built from writes a new random stamp; every process compares the
 * stamp on use and rebuilds when it differs. Random, not a counter: two writers racing each leave
 * a stamp no reader has seen, so no change is missed (an $inc is not safe on FerretDB).
 */
export interface CacheStamp {
  _id: string;
  stamp: string;
  at: Date;
}

const schema = new Schema<CacheStamp>({ _id: { type: String, required: true }, stamp: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

export function cacheStampModel(conn: Connection): Model<CacheStamp> {
  return (conn.models.CacheStamp as Model<CacheStamp> | undefined) ?? conn.model<CacheStamp>('CacheStamp', schema, 'cache_stamps');
}
