/**
 * Collections of the full-text index (services/search). Every read on the query path is a point
 * lookup by _id: FerretDB 1.x answers those in milliseconds but scans for anything else.
 * None of these holds a token or a line of page text in clear: terms are keyed hashes inside the
 * segment blobs, and persons appear only as blind-index hashes.
 */
import { Schema, type Connection, type Model } from 'mongoose';

export interface SearchSegmentDoc {
  _id: number;
  chunks: number;
  bytes: number;
  items: number;
  pages: number;
  createdAt: Date;
}

/** One piece (≤ 8 MB) of a deflated segment. */
export interface SearchChunkDoc {
  _id: string;
  data: Buffer;
}

/**
 * The index log: the order of segment additions and removals defines which version of an item is
 * current. seq is allocated by unique insert, the one write FerretDB makes atomic.
 */
export interface SearchLogDoc {
  _id: number;
  op: 'add' | 'remove' | 'base' | 'merge';
  seg: number | null;
  items: string[];
  /**
   * op=base (a rebuild): its segments, and the log position the rebuild started from.
   * op=merge: the segments merged into `seg`; an item moves to `seg` only if its current version
   * is still in one of them (a later correction or removal wins over the merge).
   */
  segs: number[];
  from: number | null;
  at: Date;
}

/**
 * Hints: 'head' (highest seq written, possibly lagging) and 'base' (seq of the latest rebuild);
 * 'snapshot': the newest index snapshot in the blob store (services/search/snapshot.ts), the log
 * position it covers and its manifest's key.
 */
export interface SearchMetaDoc {
  _id: string;
  seq: number;
  key?: string;
  at?: Date;
}

const segmentSchema = new Schema<SearchSegmentDoc>(
  { _id: Number, chunks: Number, bytes: Number, items: Number, pages: Number, createdAt: Date },
  { collection: 'search_segments', versionKey: false },
);
const chunkSchema = new Schema<SearchChunkDoc>({ _id: String, data: Buffer }, { collection: 'search_chunks', versionKey: false });
const logSchema = new Schema<SearchLogDoc>(
  { _id: Number, op: String, seg: { type: Number, default: null }, items: [String], segs: [Number], from: { type: Number, default: null }, at: Date },
  { collection: 'search_log', versionKey: false },
);
const metaSchema = new Schema<SearchMetaDoc>({ _id: String, seq: Number, key: String, at: Date }, { collection: 'search_meta', versionKey: false });

export interface SearchModels {
  segments: Model<SearchSegmentDoc>;
  chunks: Model<SearchChunkDoc>;
  log: Model<SearchLogDoc>;
  meta: Model<SearchMetaDoc>;
}

export function searchModels(conn: Connection): SearchModels {
  const m = <T>(name: string, schema: Schema<T>): Model<T> => (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema);
  return {
    segments: m('SearchSegment', segmentSchema),
    chunks: m('SearchChunk', chunkSchema),
    log: m('SearchLog', logSchema),
    meta: m('SearchMeta', metaSchema),
  };
}
