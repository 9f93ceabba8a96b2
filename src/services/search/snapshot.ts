/**
 * Snapshots of the embedded index (issue #16 §1): what a process needs to start searching without
 * replaying the log from the latest rebuild and reading every segment out of the database.
 *
 * Why: FerretDB (SQLite) hands out large documents at a few MB/s (an 8 MB segment chunk took
 * ~2 s here under load), so loading the index from the database grows with the archive at that
 * rate: 8.4 s at 100k pages on a quiet machine, minutes at millions. The blob store serves the
 * same bytes tens of times faster, in parallel, and encrypts every object (envelope encryption,
 * per-object data keys under the archive's KEKs) like page images and text.
 *
 * Layout in the blob store:
 *   search/segments/<segment id>   a mirror of one immutable segment (encodeSegment's bytes)
 *   search/snapshots/<seq>-<rand>  a manifest: the log position it covers, and per segment the
 *                                  items current in it (a bitmap), plus the ghosts
 * and in the database, search_meta {_id: 'snapshot', seq, key}: the pointer to the newest manifest.
 *
 * A snapshot is consistent with the log because the manifest is taken in one synchronous step from
 * an engine that has applied every entry up to `seq`; a process loads it, then replays the log
 * entries after `seq` as it would after a rebuild's base entry. It is safe under a killed process
 * because nothing is overwritten: mirrors and manifests go to new keys, and only then the pointer
 * moves (compare-and-set, forward only). A pointer older than the latest rebuild is ignored, and
 * any failure to read a snapshot falls back to loading from the database as before.
 *
 * Security: a mirror holds exactly what the segment in the database holds (keyed-hash terms,
 * blind-index person keys, the facet fields); the manifest holds item ids and segment ids. Both
 * are encrypted at rest by the blob store.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/** Where snapshots live: the application's blob store (services/platform), or a map in tests. */
export interface SnapshotBlobs {
  get(key: string): Promise<Buffer>;
  put(key: string, data: Buffer): Promise<void>;
  /** Best effort: a key left behind is garbage, never a wrong answer. */
  remove(keys: string[]): Promise<void>;
}

export const SEGMENT_PREFIX = 'search/segments/';
export const SNAPSHOT_PREFIX = 'search/snapshots/';

export function segmentKey(id: number): string {
  return `${SEGMENT_PREFIX}${id}`;
}

export interface SnapshotManifest {
  v: 1;
  /** every log entry up to this seq is reflected */
  seq: number;
  /** per segment: its id and a bitmap (base64) of the items current in it, by index in the segment */
  segs: Array<{ id: number; live: string }>;
  /** item → a segment deleted before the snapshotting engine loaded it (see SearchEngine.ghosts) */
  ghosts: Array<[string, number]>;
  at: string;
}

export function encodeManifest(m: SnapshotManifest): Buffer {
  return deflateRawSync(Buffer.from(JSON.stringify(m), 'utf8'), { level: 1 });
}

export function decodeManifest(b: Buffer): SnapshotManifest {
  const m = JSON.parse(inflateRawSync(b).toString('utf8')) as SnapshotManifest;
  if (m.v !== 1 || !Number.isInteger(m.seq) || !Array.isArray(m.segs)) throw new Error('not a search snapshot manifest');
  return m;
}

export function packBits(live: Uint8Array): string {
  const out = Buffer.alloc(Math.ceil(live.length / 8));
  for (let i = 0; i < live.length; i++) if (live[i]) out[i >> 3]! |= 1 << (i & 7);
  return out.toString('base64');
}

export function unpackBits(s: string, n: number): Uint8Array {
  const b = Buffer.from(s, 'base64');
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (b[i >> 3]! >> (i & 7)) & 1;
  return out;
}

/** Runs fn over xs with at most `limit` at a time (parallel blob reads without a stampede). */
export async function mapLimit<T, R>(xs: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(xs.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, xs.length) }, async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await fn(xs[i]!);
    }
  });
  await Promise.all(lanes);
  return out;
}
