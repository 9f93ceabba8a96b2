/**
 * The search engine of one process: it replays the index log from the database into memory
 * (segments are immutable, so a loaded one never goes stale) and answers queries from memory.
 * Measured on FerretDB, anything but a point lookup scans, so the query path touches the
 * database once: a point read of the log's head, to see removals and additions from other
 * processes before answering.
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { parseQuery, type Clause } from './query';
import { rank, type RankContext, type RankView } from './rank';
import { buildSegment, decodeMirror, encodeSegmentRaw, type SegItem, type Segment, type SegmentInputPage } from './segment';
import { decodeManifest, encodeManifest, mapLimit, packBits, segmentKey, SNAPSHOT_PREFIX, unpackBits, type SnapshotBlobs, type SnapshotManifest } from './snapshot';
import { LogFollower, planMerge } from './merge';
import { FacetTable, NO_YEAR } from './facets';
import { makeSnippet } from './snippet';
import { SearchStore, type LogEntry } from './store';
import { TokenHasher, tokenizePage, warmTokenizer } from './tokenize';
import type { CompactStats, RebuildOptions, RebuildStats, SearchBackend } from './backend';
import { FACET_FIELDS, metadataText, type FacetField, type IndexDocument, type SearchRequest, type SearchResult, type SearchScope, type TextProvider, type PagesTextProvider, type SearchHit } from './types';

export interface SearchDeps {
  db: Connection;
  key: Buffer;
  text: TextProvider;
  /** Snippet pages of a hit in one go (see PagesTextProvider); without it, `text` page by page. */
  texts?: PagesTextProvider;
  /** Where index snapshots live (the blob store); without it the index always loads from the database. */
  snapshots?: SnapshotBlobs;
  /** A snapshot that could not be read or written (the engine falls back and goes on). */
  warn?: (msg: string, err: unknown) => void;
}

/** How the index was loaded at open(): from a snapshot plus the log after it, or from the database. */
export interface LoadStats {
  source: 'snapshot' | 'database';
  ms: number;
  /** log entries applied after the snapshot or the rebuild's base */
  tail: number;
  segments: number;
  /** the snapshot's log position (0 when loaded from the database) */
  snapshotSeq: number;
}

export interface LoadedSegment {
  id: number;
  seg: Segment;
  /** 1 where the segment holds the current version of that item */
  live: Uint8Array;
  itemDocs: Uint32Array;
  /** first page (doc) of each item: an item's pages are contiguous in its segment */
  itemFirst: Uint32Array;
  itemLen: Float64Array;
  /** offsets of this segment's docs and items in the engine-wide numbering (query scratch arrays) */
  docBase: number;
  itemBase: number;
  /** item id → its index in seg.items (a linear search made loading 100k items quadratic) */
  indexOf: Map<string, number>;
}

export type { CompactStats, RebuildStats } from './backend';

export interface SnapshotWritten {
  seq: number;
  key: string;
  /** segment mirrors uploaded (the others were in the blob store already) */
  uploaded: number;
  ms: number;
}

/** A query's result without its snippets (made afresh each time: the text may have gone since). */
interface CachedResult {
  total: number;
  found: Array<Omit<SearchHit, 'snippets'>>;
  facets: SearchResult['facets'];
}

/** Results kept per index version (see SearchEngine.results). */
const RESULT_CACHE_ENTRIES = 256;

/** Least recently used results of one index version; a new version empties it. */
export class ResultCache {
  private version = -1;
  private readonly m = new Map<string, CachedResult>();
  constructor(private readonly max: number) {}
  get(version: number, key: string): CachedResult | null {
    if (version !== this.version) return null;
    const hit = this.m.get(key);
    if (!hit) return null;
    this.m.delete(key);
    this.m.set(key, hit);
    return hit;
  }
  put(version: number, key: string, r: CachedResult): void {
    if (version !== this.version) {
      this.m.clear();
      this.version = version;
    }
    if (this.m.size >= this.max) this.m.delete(this.m.keys().next().value!);
    this.m.set(key, r);
  }
}

/** The k-th largest of scores[at[0..n)] (k ≤ n), by a min-heap of the k best: O(n log k). */
export function kthLargest(scores: Float64Array, at: Int32Array, n: number, k: number): number {
  const heap = new Float64Array(k);
  let size = 0;
  for (let h = 0; h < n; h++) {
    const v = scores[at[h]!]!;
    if (size < k) {
      // sift up
      let i = size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heap[p]! <= v) break;
        heap[i] = heap[p]!;
        i = p;
      }
      heap[i] = v;
    } else if (v > heap[0]!) {
      // replace the root, sift down
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= k) break;
        const c = l + 1 < k && heap[l + 1]! < heap[l]! ? l + 1 : l;
        if (heap[c]! >= v) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = v;
    }
  }
  return heap[0]!;
}

export class SearchEngine implements SearchBackend {
  readonly kind = 'embedded' as const;
  readonly store: SearchStore;
  readonly hasher: TokenHasher;
  readonly segs = new Map<number, LoadedSegment>();
  /** itemId → the segment holding its current version */
  readonly current = new Map<string, { seg: number; idx: number }>();
  /**
   * itemId → a segment the log made current but which was deleted before this engine loaded it
   * (merged away): a later merge entry names it, so the item can still follow its version.
   */
  private readonly ghosts = new Map<string, number>();
  liveDocs = 0;
  liveLen = 0;
  /** sizes of the engine-wide doc and item numbering (grows as segments load) */
  docSpace = 0;
  itemSpace = 0;
  /** filterable fields of every loaded item, by engine-wide item number */
  readonly facets = new FacetTable();
  /** bumped on every change of what is live: query caches key on it */
  version = 0;
  private seq = 0;
  private opened: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private lastProbe = 0;
  /** true once open() has loaded the index (queries before that wait, or are refused by the API) */
  private ready = false;
  loadStats: LoadStats | null = null;
  /** segments known to have a mirror in the snapshot store (loaded from or written to it) */
  private readonly mirrored = new Set<number>();
  /** log position of the newest snapshot this process loaded or wrote */
  snapshotSeq = 0;
  private snapshotting: Promise<SnapshotWritten | null> | null = null;
  /** a pointer whose manifest this process could not read: the next snapshot may replace it */
  private unreadable: { seq: number; key: string } | null = null;
  /** what the log says is current, for planning merges without loading the index */
  private readonly follower: LogFollower;

  constructor(private readonly deps: SearchDeps) {
    this.store = new SearchStore(deps.db);
    this.follower = new LogFollower(this.store);
    this.hasher = new TokenHasher(deps.key);
  }

  // ---------- writing ----------

  toSegment(docs: IndexDocument[]): Segment {
    const items: SegItem[] = [];
    const pages: SegmentInputPage[] = [];
    for (const d of docs) {
      const idx = items.length;
      items.push({
        id: d.id,
        fonds: d.fonds,
        title: d.title,
        code: d.archivalCode,
        documentType: d.documentType,
        category: d.category,
        insurance: d.insurance,
        retention: d.retention,
        year: d.year,
        date: d.documentDate,
        access: d.accessLevel,
        pids: [...new Set(d.persons.map((p) => p.idNumber).filter((x): x is string => !!x))].map((x) => this.hasher.blind('pid', x.toUpperCase())),
        names: [...new Set(d.persons.map((p) => p.name).filter((x): x is string => !!x))].map((x) => this.hasher.blind('name', x)),
      });
      pages.push({ item: idx, page: 0, tokens: tokenizePage(metadataText(d)) });
      for (const p of d.pages) if (p.n > 0) pages.push({ item: idx, page: p.n, tokens: tokenizePage(p.text) });
    }
    return buildSegment(items, pages, this.hasher);
  }

  /** Indexes items as one new segment; from the log entry on they are the current version. */
  async indexDocuments(docs: IndexDocument[]): Promise<void> {
    if (!docs.length) return;
    const seg = this.toSegment(docs);
    const { id } = await this.store.writeSegment(seg);
    const seq = await this.store.append({ op: 'add', seg: id, items: docs.map((d) => d.id), segs: [], from: null });
    // A process that only writes (the worker) never loads the index; a searching one applies
    // its own write at once.
    if (!this.opened) return;
    this.addLoaded(id, seg);
    await this.catchUp(seq);
  }

  /** Takes items out of every result at once; their segment data is dropped at the next rebuild. */
  async remove(itemIds: string[]): Promise<void> {
    if (!itemIds.length) return;
    const seq = await this.store.append({ op: 'remove', seg: null, items: itemIds, segs: [], from: null });
    if (this.opened) await this.catchUp(seq);
  }

  /** Rebuilds the whole index from a source of documents, then drops the old segments. */
  async rebuild(source: AsyncIterable<IndexDocument>, opts: RebuildOptions = {}): Promise<RebuildStats> {
    const startedAt = new Date();
    const from = await this.store.head();
    const stats: RebuildStats = { items: 0, pages: 0, segments: 0, bytes: 0, rawBytes: 0 };
    const segIds: number[] = [];
    let batch: IndexDocument[] = [];
    let batchPages = 0;
    // The database write of one segment overlaps the tokenising of the next.
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      if (!batch.length) return;
      const seg = this.toSegment(batch);
      batch = [];
      batchPages = 0;
      await writing;
      writing = this.store.writeSegment(seg).then(({ id, bytes }) => {
        segIds.push(id);
        stats.segments++;
        stats.bytes += bytes;
        opts.onProgress?.(stats);
      });
      // Surface a failed write at the next flush at the latest, never as an unhandled rejection.
      writing.catch(() => undefined);
    };
    for await (const d of source) {
      batch.push(d);
      stats.items++;
      stats.pages += d.pages.length;
      batchPages += d.pages.length + 1;
      for (const p of d.pages) stats.rawBytes += Buffer.byteLength(p.text);
      if (batchPages >= (opts.segmentPages ?? 20_000)) await flush();
    }
    await flush();
    await writing;
    const seq = await this.store.append({ op: 'base', seg: null, items: [], segs: segIds, from });
    if (this.opened) await this.catchUp(seq);
    // Old segments: everything not in this base and not written by an indexer since we started.
    const keep = new Set(segIds);
    for (let q = from + 1; q < seq; q++) {
      const e = await this.store.entry(q);
      if (e?.seg) keep.add(e.seg);
    }
    const old = (await this.store.m.segments.find({}, { _id: 1, createdAt: 1 }).lean()).filter((s) => !keep.has(s._id) && s.createdAt < startedAt).map((s) => s._id);
    await this.store.deleteSegments(old);
    await this.store.pruneLog(from);
    return stats;
  }

  /**
   * Merges small segments (every filed or corrected item is a segment of its own) into one, so
   * that neither loading the index nor a query walks thousands of tiny segments. Segments are
   * merged by size tier (see planMerge): each page is re-indexed about log8(archive size) times
   * in all. The merged versions are read again from `source` rather than from the old segments,
   * which hold only keyed hashes. Safe against concurrent writers: the merge entry moves an item
   * only if its current version is still in a merged segment, and old segments are deleted only
   * once the log says nothing current is left in them.
   */
  async compact(source: (itemIds: string[]) => AsyncIterable<IndexDocument>, opts: { fanout?: number; maxTier?: number } = {}): Promise<CompactStats> {
    const state = await this.follower.current();
    const metas = await this.store.m.segments.find({}, { _id: 1, pages: 1, items: 1 }).lean();
    const plan = planMerge(state, metas, opts);
    const stats: CompactStats = { merged: 0, items: 0, into: null, deleted: 0 };
    if (plan) {
      const docs: IndexDocument[] = [];
      for await (const d of source(plan.items)) docs.push(d);
      if (docs.length) {
        const seg = this.toSegment(docs);
        const { id } = await this.store.writeSegment(seg);
        const seq = await this.store.append({ op: 'merge', seg: id, items: docs.map((d) => d.id), segs: plan.segs, from: state.head });
        if (this.opened) await this.catchUp(seq);
        stats.merged = plan.segs.length;
        stats.items = docs.length;
        stats.into = id;
      }
    }
    // Delete what the log (followed past the merge) says holds nothing current any more: merged
    // segments and ones whose items were all re-indexed or removed since. A segment the log has
    // not named is left alone (a writer may be about to log it; `archive reindex` clears leftovers).
    const after = await this.follower.current();
    const dead = metas.filter((m) => after.known.has(m._id) && !after.baseSegs.has(m._id) && !after.live.get(m._id)).map((m) => m._id);
    await this.store.deleteSegments(dead);
    stats.deleted = dead.length;
    return stats;
  }

  // ---------- following the log ----------

  open(): Promise<void> {
    // The first query needs the word dictionary: load it while the index's reads are in flight.
    if (!this.opened) {
      setImmediate(() => {
        try {
          warmTokenizer();
        } catch {
          // The first query that tokenises reports it.
        }
      });
    }
    this.opened ??= this.loadFromBase().catch((err: unknown) => {
      this.opened = null;
      throw err;
    });
    return this.opened;
  }

  /** Whether the index is in memory (open() has finished). */
  get loaded(): boolean {
    return this.ready;
  }

  private async loadFromBase(): Promise<void> {
    const t0 = performance.now();
    const base = await this.store.base();
    const fromSnapshot = await this.loadSnapshot(base).catch((err: unknown) => {
      // Nothing was applied yet (a snapshot is read whole before it is applied): load as before.
      this.deps.warn?.('reading the search index snapshot failed; loading the index from the database', err);
      return false;
    });
    if (!fromSnapshot && base > 0) {
      const e = await this.store.entry(base);
      if (e) await this.applyBase(e);
      this.seq = base;
    }
    // Everything logged since the snapshot or the base in one read: point reads per entry would
    // cost ~1.5 ms each on FerretDB, minutes for a log of 100k filings since the last rebuild.
    const since = (await this.store.m.log.find({ _id: { $gt: this.seq } }).lean<LogEntry[]>()).sort((a, b) => a._id - b._id);
    for (const e of since) await this.apply(e);
    await this.catchUp(await this.store.head());
    await this.probe();
    this.ready = true;
    this.loadStats = { source: fromSnapshot ? 'snapshot' : 'database', ms: Math.round(performance.now() - t0), tail: since.length, segments: this.segs.size, snapshotSeq: fromSnapshot ? this.snapshotSeq : 0 };
  }

  /**
   * Loads the newest snapshot (snapshot.ts) if it covers the latest rebuild: every mirror is read
   * and decoded first, then applied in one synchronous step, so a failure leaves the engine empty
   * and the caller loads from the database instead.
   */
  private async loadSnapshot(base: number): Promise<boolean> {
    const blobs = this.deps.snapshots;
    if (!blobs) return false;
    const ptr = await this.store.snapshotPointer();
    // Older than the latest rebuild: its segments are gone from the log's point of view.
    if (!ptr || ptr.seq < base) return false;
    let m: SnapshotManifest;
    let segs: Array<{ s: SnapshotManifest['segs'][number]; seg: Segment }>;
    try {
      m = decodeManifest(await blobs.get(ptr.key));
      segs = await mapLimit(m.segs, 4, async (s) => ({ s, seg: decodeMirror(await blobs.get(segmentKey(s.id))) }));
    } catch (err) {
      this.unreadable = ptr;
      throw err;
    }
    for (const { s, seg } of segs) {
      const l = this.addLoaded(s.id, seg);
      const live = unpackBits(s.live, seg.items.length);
      for (let i = 0; i < live.length; i++) if (live[i]) this.setCurrent(seg.items[i]!.id, l);
      this.mirrored.add(s.id);
    }
    for (const [id, seg] of m.ghosts) this.ghosts.set(id, seg);
    this.seq = m.seq;
    this.snapshotSeq = m.seq;
    return true;
  }

  /** Log entries written since the newest snapshot (as far as this process knows the head). */
  async snapshotLag(): Promise<number> {
    const ptr = await this.store.snapshotPointer();
    this.snapshotSeq = Math.max(this.snapshotSeq, ptr?.seq ?? 0);
    return Math.max(0, (await this.store.head()) - this.snapshotSeq);
  }

  /**
   * Writes a snapshot of the index as this process holds it (after catching up with the log):
   * mirrors of the segments not in the blob store yet, a manifest under a new key, then the
   * pointer, moved only forward and only if no other process moved it meanwhile. Then the mirrors
   * the replaced manifest named and this one does not are removed: a segment with no current
   * item at some log position never gets one again (new versions go to new segments), so no newer
   * manifest can name them. Null when there is nothing newer to write or another process won.
   */
  writeSnapshot(): Promise<SnapshotWritten | null> {
    this.snapshotting ??= this.snapshotNow().finally(() => {
      this.snapshotting = null;
    });
    return this.snapshotting;
  }

  private async snapshotNow(): Promise<SnapshotWritten | null> {
    const blobs = this.deps.snapshots;
    if (!blobs) return null;
    const t0 = performance.now();
    await this.refresh();
    // The state at this.seq, taken in one synchronous step (no await until the manifest is built).
    const seq = this.seq;
    const segs = [...this.segs.values()].filter((l) => l.live.some((x) => x === 1));
    const manifest: SnapshotManifest = { v: 1, seq, segs: segs.map((l) => ({ id: l.id, live: packBits(l.live) })), ghosts: [...this.ghosts], at: new Date().toISOString() };
    const prev = await this.store.snapshotPointer();
    const broken = prev !== null && prev.key === this.unreadable?.key;
    if (prev && prev.seq >= seq && !broken) {
      this.snapshotSeq = Math.max(this.snapshotSeq, prev.seq);
      return null;
    }
    let uploaded = 0;
    for (const l of segs) {
      if (this.mirrored.has(l.id)) continue;
      await blobs.put(segmentKey(l.id), encodeSegmentRaw(l.seg));
      this.mirrored.add(l.id);
      uploaded++;
    }
    const key = `${SNAPSHOT_PREFIX}${seq}-${randomBytes(6).toString('hex')}`;
    await blobs.put(key, encodeManifest(manifest));
    if (!(await this.store.moveSnapshotPointer(prev, { seq, key }, { replaceNewer: broken }))) {
      await blobs.remove([key]).catch(() => undefined);
      return null;
    }
    this.snapshotSeq = seq;
    this.unreadable = null;
    if (prev && !broken) {
      try {
        const old = decodeManifest(await blobs.get(prev.key));
        const keep = new Set(manifest.segs.map((s) => s.id));
        const gone = old.segs.filter((s) => !keep.has(s.id)).map((s) => s.id);
        await blobs.remove([prev.key, ...gone.map(segmentKey)]);
        for (const id of gone) this.mirrored.delete(id);
      } catch (err) {
        this.deps.warn?.('removing the previous search index snapshot failed (garbage left in the blob store)', err);
      }
    }
    return { seq, key, uploaded, ms: Math.round(performance.now() - t0) };
  }

  /** Sees what other processes wrote: one point read of the head; a probe past it now and then. */
  async refresh(): Promise<void> {
    await this.open();
    this.syncing ??= (async () => {
      try {
        await this.catchUp(await this.store.head());
        if (Date.now() - this.lastProbe > 5000) await this.probe();
      } finally {
        this.syncing = null;
      }
    })();
    return this.syncing;
  }

  /** The head is a hint that may lag after a lost update; the entry after it tells. */
  private async probe(): Promise<void> {
    this.lastProbe = Date.now();
    for (;;) {
      const e = await this.store.entry(this.seq + 1);
      if (!e) return;
      await this.apply(e);
    }
  }

  private async catchUp(to: number): Promise<void> {
    while (this.seq < to) {
      const e = await this.store.entry(this.seq + 1);
      if (!e) {
        // A writer allocated this seq after us but has not finished: stop, it appears later.
        if (this.seq + 1 >= to) return;
        // A gap from a failed append: skip it.
        this.seq++;
        continue;
      }
      await this.apply(e);
    }
  }

  private async apply(e: LogEntry): Promise<void> {
    if (e.op === 'base') await this.applyBase(e);
    else if (e.op === 'add' && e.seg !== null) {
      const seg = e.seg;
      const l = await this.loadSegment(seg).catch((err: unknown) => {
        // Deleted by a later rebuild or merge: the base or merge entry further on supersedes it.
        if ((err as { code?: string }).code === 'segment_missing') return null;
        throw err;
      });
      for (const id of e.items) {
        this.setCurrent(id, l);
        if (!l) this.ghosts.set(id, seg);
      }
    } else if (e.op === 'merge' && e.seg !== null) {
      const merged = new Set(e.segs);
      const moving = e.items.filter((id) => merged.has(this.current.get(id)?.seg ?? this.ghosts.get(id) ?? -1));
      if (moving.length) {
        const l = await this.loadSegment(e.seg).catch((err: unknown) => {
          if ((err as { code?: string }).code === 'segment_missing') return null;
          throw err;
        });
        for (const id of moving) {
          this.setCurrent(id, l);
          if (!l) this.ghosts.set(id, e.seg);
        }
      }
      this.dropDead(merged);
    } else if (e.op === 'remove') for (const id of e.items) this.setCurrent(id, null);
    this.seq = Math.max(this.seq, e._id);
  }

  /** Forgets loaded segments that no longer hold a current item (queries skip nothing dead). */
  private dropDead(candidates: Iterable<number>): void {
    for (const id of candidates) {
      const l = this.segs.get(id);
      if (l && !l.live.some((x) => x === 1)) this.segs.delete(id);
    }
  }

  private async applyBase(e: LogEntry): Promise<void> {
    for (const id of [...this.current.keys()]) this.setCurrent(id, null);
    this.ghosts.clear();
    for (const s of e.segs) {
      const l = await this.loadSegment(s);
      for (const it of l.seg.items) this.setCurrent(it.id, l);
    }
    // Writes that raced the rebuild (after its start, before its base entry) still count.
    for (let q = (e.from ?? e._id) + 1; q < e._id; q++) {
      const r = await this.store.entry(q);
      if (r && r.op !== 'base') await this.apply(r);
    }
    for (const [id, l] of this.segs) if (!e.segs.includes(id) && !l.live.some((x) => x === 1)) this.segs.delete(id);
  }

  private async loadSegment(id: number): Promise<LoadedSegment> {
    return this.segs.get(id) ?? this.addLoaded(id, await this.store.readSegment(id));
  }

  private addLoaded(id: number, seg: Segment): LoadedSegment {
    const existing = this.segs.get(id);
    if (existing) return existing;
    const n = seg.items.length;
    const itemDocs = new Uint32Array(n);
    const itemFirst = new Uint32Array(n);
    const itemLen = new Float64Array(n);
    for (let d = seg.docItem.length - 1; d >= 0; d--) {
      itemDocs[seg.docItem[d]!]!++;
      itemFirst[seg.docItem[d]!] = d;
      itemLen[seg.docItem[d]!]! += seg.docLen[d]!;
    }
    const indexOf = new Map<string, number>();
    seg.items.forEach((it, i) => indexOf.set(it.id, i));
    const l: LoadedSegment = { id, seg, live: new Uint8Array(n), itemDocs, itemFirst, itemLen, docBase: this.docSpace, itemBase: this.itemSpace, indexOf };
    this.docSpace += seg.docItem.length;
    this.itemSpace += n;
    for (let i = 0; i < n; i++) this.facets.add(l.itemBase + i, seg.items[i]!);
    this.segs.set(id, l);
    return l;
  }

  private setCurrent(itemId: string, l: LoadedSegment | null): void {
    this.version++;
    this.ghosts.delete(itemId);
    const prev = this.current.get(itemId);
    if (prev) {
      const p = this.segs.get(prev.seg);
      if (p && p.live[prev.idx]) {
        p.live[prev.idx] = 0;
        this.liveDocs -= p.itemDocs[prev.idx]!;
        this.liveLen -= p.itemLen[prev.idx]!;
      }
      this.current.delete(itemId);
    }
    if (!l) return;
    const idx = l.indexOf.get(itemId);
    if (idx === undefined) return;
    l.live[idx] = 1;
    this.liveDocs += l.itemDocs[idx]!;
    this.liveLen += l.itemLen[idx]!;
    this.current.set(itemId, { seg: l.id, idx });
  }

  async indexed(itemId: string): Promise<{ archivalCode: string | null } | null> {
    await this.refresh();
    const it = this.itemOf(itemId);
    return it ? { archivalCode: it.code } : null;
  }

  async *ids(): AsyncIterable<string> {
    await this.refresh();
    yield* [...this.current.keys()];
  }

  async count(scope: SearchScope = {}): Promise<number> {
    return (await this.search({ q: '', limit: 0, facets: false, snippets: false }, scope)).total;
  }

  itemOf(itemId: string): SegItem | null {
    const c = this.current.get(itemId);
    return c ? (this.segs.get(c.seg)?.seg.items[c.idx] ?? null) : null;
  }

  // ---------- querying ----------

  /**
   * Runs a query. `scope` is the caller's permission filter (see SearchScope): it is applied to
   * the candidate items before counting, ranking and facets.
   */
  async search(req: SearchRequest, scope: SearchScope = {}): Promise<SearchResult> {
    const t0 = performance.now();
    await this.refresh();
    const clauses = parseQuery(req.q);
    const F = this.facets;
    const D = F.dict;
    const inFonds = D.fonds.allowed(scope.fonds ?? undefined) ?? (scope.fonds ? new Uint8Array(1) : null);
    const maxAccess = scope.maxAccessLevel ?? Infinity;
    const ctx: RankContext = { engine: this, hasher: this.hasher, view: this.viewOf(scope, inFonds, maxAccess) };
    const cacheKey = `${ctx.view.key}|${JSON.stringify([req.q, req.filters ?? null, req.sort ?? null, req.offset ?? 0, req.limit ?? 20, req.facets !== false])}`;
    const cached = this.results.get(this.version, cacheKey);
    if (cached) return this.withSnippets(t0, cached, req, clauses);
    const R = rank(ctx, clauses);
    const f = req.filters ?? {};
    const pidHash = f.personId ? this.hasher.blind('pid', f.personId.toUpperCase()) : null;
    // Filters as id masks; a facet counts under every filter but its own, so that a facet value's
    // count is the total the user gets by choosing it.
    const only: Array<[FacetField, Uint8Array | null]> = [
      ['documentType', D.documentType.allowed(f.documentType)],
      ['category', D.category.allowed(f.category)],
      ['retention', D.retention.allowed(f.retention)],
      ['fonds', D.fonds.allowed(f.fonds)],
    ];
    const insAllowed = D.insurance.allowed(f.insurance);
    const yearFrom = f.yearFrom ?? -Infinity;
    const yearTo = f.yearTo ?? Infinity;
    const yearFiltered = f.yearFrom !== undefined || f.yearTo !== undefined;
    const counting = req.facets !== false;
    const counts = Object.fromEntries(FACET_FIELDS.map((k) => [k, new Int32Array(D[k].values.length)])) as Record<FacetField, Int32Array>;
    const countSingle = (k: 'documentType' | 'category' | 'retention' | 'fonds' | 'year', it: number) => {
      const v = F.single[k][it]!;
      if (v >= 0) counts[k][v]!++;
    };
    // The per-hit loop below runs for every matching item (hundreds of thousands for a common
    // word at a million pages): the filters that are set, and the arrays it reads, are fetched once.
    const active = only.filter((x): x is [FacetField, Uint8Array] => x[1] !== null).map(([field, mask]) => ({ field, mask, of: F.single[field as 'fonds'] }));
    const fondsOf = F.single.fonds;
    const single = (['documentType', 'category', 'retention', 'fonds', 'year'] as const).map((k) => ({ of: F.single[k], c: counts[k] }));
    const countAll = (it: number) => {
      for (let j = 0; j < single.length; j++) {
        const v = single[j]!.of[it]!;
        if (v >= 0) single[j]!.c[v]!++;
      }
      countInsurance(it);
    };
    const countInsurance = (it: number) => {
      const s = F.insStart[it]!;
      for (let j = 0; j < F.insLen[it]!; j++) counts.insurance[F.insPool[s + j]!]!++;
    };
    const hitAt = new Int32Array(R.count);
    let nHits = 0;
    for (let k = 0; k < R.count; k++) {
      const it = R.items[k]!;
      if (inFonds && !inFonds[fondsOf[it]!]) continue;
      if (F.access[it]! > maxAccess) continue;
      let fails = 0;
      let failed: FacetField | 'person' | null = null;
      for (let j = 0; j < active.length; j++) {
        const a = active[j]!;
        if (!a.mask[a.of[it]!]) {
          failed = a.field;
          fails++;
        }
      }
      if (insAllowed) {
        let any = false;
        const s = F.insStart[it]!;
        for (let j = 0; j < F.insLen[it]! && !any; j++) any = insAllowed[F.insPool[s + j]!] === 1;
        if (!any) {
          failed = 'insurance';
          fails++;
        }
      }
      if (yearFiltered) {
        const y = F.yearNum[it]!;
        if (y === NO_YEAR || y < yearFrom || y > yearTo) {
          failed = 'year';
          fails++;
        }
      }
      if (fails > 1) continue;
      if (pidHash) {
        const { l, idx } = R.locate(it);
        if (!l.seg.items[idx]!.pids.includes(pidHash)) {
          failed = 'person';
          if (++fails > 1) continue;
        }
      }
      if (fails === 0) hitAt[nHits++] = k;
      if (!counting) continue;
      if (fails === 0) countAll(it);
      else if (failed === 'insurance') countInsurance(it);
      else if (failed !== null && failed !== 'person') countSingle(failed, it);
    }
    const offset = req.offset ?? 0;
    const want = offset + (req.limit ?? 20);
    // Newest first, then by score; by score, ties newest first. Last by item number: a total
    // order, so the results never depend on the order rank() gathered the hits in.
    const byDate = (a: number, b: number) => F.dateNum[R.items[b]!]! - F.dateNum[R.items[a]!]! || R.scores[b]! - R.scores[a]! || R.items[a]! - R.items[b]!;
    const byScore = (a: number, b: number) => R.scores[b]! - R.scores[a]! || F.dateNum[R.items[b]!]! - F.dateNum[R.items[a]!]! || R.items[a]! - R.items[b]!;
    let ranked: number[];
    if (req.sort !== 'date' && nHits > 4 * want + 1000) {
      // Only the requested window is ordered: cut at the window's lowest score first (the
      // want-th best score, kept in a small min-heap: a full sort of the hits cost more).
      const cut = kthLargest(R.scores, hitAt, nHits, want);
      ranked = [];
      for (let h = 0; h < nHits; h++) if (R.scores[hitAt[h]!]! >= cut) ranked.push(hitAt[h]!);
    } else ranked = Array.from(hitAt.subarray(0, nHits));
    ranked.sort(req.sort === 'date' ? byDate : byScore);
    const window = ranked.slice(offset, want);
    const found = window.map((k): Omit<SearchHit, 'snippets'> => {
      const it = R.items[k]!;
      const { l, idx } = R.locate(it);
      const item = l.seg.items[idx]!;
      return {
        id: item.id,
        title: item.title,
        archivalCode: item.code,
        documentType: item.documentType,
        documentDate: item.date,
        fonds: item.fonds,
        score: Math.round(R.scores[k]! * 1000) / 1000,
        pages: R.pagesOf(it),
        exact: R.exact[k] === 1,
      };
    });
    const facets = Object.fromEntries(
      FACET_FIELDS.map((k) => {
        const list: Array<{ value: string; count: number }> = [];
        counts[k].forEach((count, id) => {
          if (count > 0) list.push({ value: D[k].values[id]!, count });
        });
        return [k, list.sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))];
      }),
    ) as SearchResult['facets'];
    const result: CachedResult = { total: nHits, found, facets };
    this.results.put(this.version, cacheKey, result);
    return this.withSnippets(t0, result, req, clauses);
  }

  /**
   * Results of recent queries for the current index version, keyed by the caller's view (scope)
   * and everything in the request that shapes the result: a caseworker paging back, or many
   * asking for the same common words (养老保险 待遇), get the ranking, totals and facets without
   * intersecting hundreds of thousands of items again. Any change to the index (a new version)
   * empties it, as a refresh empties OpenSearch's request cache. Snippets are made afresh.
   */
  private readonly results = new ResultCache(RESULT_CACHE_ENTRIES);

  private async withSnippets(t0: number, r: CachedResult, req: SearchRequest, clauses: Clause[]): Promise<SearchResult> {
    const hits = await Promise.all(
      r.found.map(async (h) => ({ ...h, pages: [...h.pages], snippets: req.snippets === false ? [] : await this.snippets(h.id, h.pages.slice(0, 2), clauses) })),
    );
    // Copies: a caller may change what it gets; the cached result must not change with it.
    const facets = Object.fromEntries(Object.entries(r.facets).map(([k, list]) => [k, list.map((f) => ({ ...f }))])) as SearchResult['facets'];
    return { total: r.total, hits, facets, tookMs: Math.round((performance.now() - t0) * 10) / 10 };
  }

  /** Views by scope for the current index version (rebuilt after any change: O(items)). */
  private views: { version: number; m: Map<string, RankView> } = { version: -1, m: new Map() };

  /** The caller's view of the index: current items of their fonds at or below their level. */
  private viewOf(scope: SearchScope, inFonds: Uint8Array | null, maxAccess: number): RankView {
    const key = `${scope.fonds ? [...scope.fonds].sort().join(',') : '*'}|${maxAccess}`;
    if (this.views.version !== this.version) this.views = { version: this.version, m: new Map() };
    const hit = this.views.m.get(key);
    if (hit) return hit;
    const F = this.facets;
    const view: RankView = { key, masks: new Map(), whole: new Set(), docs: 0, len: 0 };
    for (const l of this.segs.values()) {
      const n = l.live.length;
      const mask = new Uint8Array(n);
      let all = true;
      for (let idx = 0; idx < n; idx++) {
        const it = l.itemBase + idx;
        if (l.live[idx] && (!inFonds || inFonds[F.single.fonds[it]!]) && F.access[it]! <= maxAccess) {
          mask[idx] = 1;
          view.docs += l.itemDocs[idx]!;
          view.len += l.itemLen[idx]!;
        } else all = false;
      }
      view.masks.set(l.id, mask);
      if (all) view.whole.add(l.id);
    }
    if (this.views.m.size >= 16) this.views.m.delete(this.views.m.keys().next().value!);
    this.views.m.set(key, view);
    return view;
  }

  private async snippets(itemId: string, pages: number[], clauses: ReturnType<typeof parseQuery>): Promise<SearchResult['hits'][number]['snippets']> {
    const out = [];
    const batch = this.deps.texts ? await this.deps.texts(itemId, pages).catch(() => new Map<number, string>()) : null;
    for (const page of pages) {
      try {
        const text = batch ? batch.get(page) : await this.deps.text(itemId, page);
        // Re-check after the await: an item removed meanwhile shows nothing.
        if (!this.current.has(itemId)) return [];
        if (text !== undefined) out.push(makeSnippet(text, page, clauses));
      } catch {
        // Text unreadable (destroyed, shredded, storage down): the hit stands without a snippet.
      }
    }
    return out;
  }
}
