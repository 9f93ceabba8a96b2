/**
 * Persistence of the index in MongoDB/FerretDB: immutable segment blobs plus an append-only log.
 * Measured on FerretDB 1.24 (SQLite): a point lookup by _id takes ~5 ms, a miss ~150 ms, and any
 * other query scans the collection (~1 s for 20k small documents). So readers never query by
 * anything but _id, and find the end of the log through a 'head' hint instead of probing misses.
 */
import { randomInt } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import type { Connection } from 'mongoose';
import { searchModels, type SearchLogDoc, type SearchModels } from '../../models/search.model';
import { decodeSegment, encodeSegment, type Segment } from './segment';

const CHUNK_BYTES = 8 * 1024 * 1024;

export type LogEntry = Pick<SearchLogDoc, '_id' | 'op' | 'seg' | 'items' | 'segs' | 'from'>;

export class SearchStore {
  readonly m: SearchModels;

  constructor(conn: Connection) {
    this.m = searchModels(conn);
  }

  async writeSegment(seg: Segment): Promise<{ id: number; bytes: number }> {
    const data = encodeSegment(seg);
    // Random ids: no allocation round-trip, and the log (not the id) orders versions.
    const id = randomInt(1, 2 ** 47);
    const chunks = [];
    for (let i = 0; i * CHUNK_BYTES < data.length || i === 0; i++) chunks.push({ _id: `${id}.${i}`, data: data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES) });
    for (const c of chunks) await this.m.chunks.collection.insertOne(c as never);
    await this.m.segments.collection.insertOne({ _id: id, chunks: chunks.length, bytes: data.length, items: seg.items.length, pages: seg.docItem.length, createdAt: new Date() } as never);
    return { id, bytes: data.length };
  }

  async readSegment(id: number): Promise<Segment> {
    const meta = await this.m.segments.findById(id).lean();
    if (!meta) throw Object.assign(new Error(`search segment ${id} is missing`), { code: 'segment_missing' });
    const parts: Buffer[] = [];
    for (let i = 0; i < meta.chunks; i++) {
      const c = await this.m.chunks.collection.findOne({ _id: `${id}.${i}` as never });
      if (!c) throw Object.assign(new Error(`search segment ${id} chunk ${i} is missing`), { code: 'segment_missing' });
      const d = c.data as { buffer?: Uint8Array } | Buffer;
      parts.push(Buffer.isBuffer(d) ? d : Buffer.from((d as { buffer: Uint8Array }).buffer));
    }
    return decodeSegment(Buffer.concat(parts));
  }

  async deleteSegments(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const metas = await Promise.all(ids.map((id) => this.m.segments.findById(id).lean()));
    const chunkIds = metas.flatMap((m) => (m ? Array.from({ length: m.chunks }, (_, i) => `${m._id}.${i}`) : []));
    if (chunkIds.length) await this.m.chunks.deleteMany({ _id: { $in: chunkIds } });
    await this.m.segments.deleteMany({ _id: { $in: ids } });
  }

  async head(): Promise<number> {
    return (await this.m.meta.findById('head').lean())?.seq ?? 0;
  }

  async base(): Promise<number> {
    return (await this.m.meta.findById('base').lean())?.seq ?? 0;
  }

  async entry(seq: number): Promise<LogEntry | null> {
    return this.m.log.findById(seq).lean<LogEntry>();
  }

  /** Appends to the log: the unique _id makes two writers never share a seq. */
  async append(e: Omit<LogEntry, '_id'>): Promise<number> {
    let seq = (await this.head()) + 1;
    for (;;) {
      try {
        await this.m.log.collection.insertOne({ _id: seq, ...e, at: new Date() } as never);
        break;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        seq++;
      }
    }
    // A hint only: a lost update here is found by readers probing one past the head.
    await this.m.meta.updateOne({ _id: 'head' }, { $max: { seq } }, { upsert: true }).catch(() => undefined);
    if (e.op === 'base') await this.m.meta.updateOne({ _id: 'base' }, { $set: { seq } }, { upsert: true });
    return seq;
  }

  /** The newest index snapshot (snapshot.ts): the log position it covers and its manifest's key. */
  async snapshotPointer(): Promise<{ seq: number; key: string } | null> {
    const d = await this.m.meta.collection.findOne({ _id: 'snapshot' as never });
    return d && typeof d.key === 'string' && typeof d.seq === 'number' ? { seq: d.seq, key: d.key } : null;
  }

  /**
   * Points at a newer snapshot, only if the pointer is still `prev` (compare-and-set: a filter
   * on the whole old value, the one atomic update FerretDB offers besides a unique insert).
   * False when another process moved it first; the pointer never moves backwards, except away
   * from a manifest that cannot be read.
   */
  async moveSnapshotPointer(prev: { seq: number; key: string } | null, next: { seq: number; key: string }, opts: { replaceNewer?: boolean } = {}): Promise<boolean> {
    // replaceNewer: `prev` names a manifest that cannot be read; any readable snapshot is better.
    if (prev && next.seq <= prev.seq && !opts.replaceNewer) return false;
    const doc = { seq: next.seq, key: next.key, at: new Date() };
    if (!prev) {
      try {
        await this.m.meta.collection.insertOne({ _id: 'snapshot', ...doc } as never);
        return true;
      } catch (err) {
        if (isDuplicateKey(err)) return false;
        throw err;
      }
    }
    const r = await this.m.meta.collection.updateOne({ _id: 'snapshot' as never, seq: prev.seq, key: prev.key }, { $set: doc });
    return r.modifiedCount === 1;
  }

  /** Log entries before a rebuild's start are history nobody replays. */
  async pruneLog(before: number): Promise<void> {
    await this.m.log.deleteMany({ _id: { $lt: before } });
  }

  async allSegmentIds(): Promise<number[]> {
    return (await this.m.segments.find({}, { _id: 1 }).lean()).map((s) => s._id);
  }

  async sizeBytes(): Promise<number> {
    let total = 0;
    for (const m of Object.values(this.m)) {
      const s = (await m.db.db!.command({ collStats: m.collection.collectionName }).catch(() => null)) as { storageSize?: number; totalIndexSize?: number } | null;
      total += (s?.storageSize ?? 0) + (s?.totalIndexSize ?? 0);
    }
    return total;
  }
}
