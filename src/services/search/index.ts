/**
 * The search backend wired to the application: one per Runtime, chosen by
 * ARCHIVE_SEARCH_BACKEND (embedded by default, or OpenSearch: backend.ts), the index key from
 * the secrets service, page text decrypted from the blob store. The pipeline calls indexItem
 * after filing or a correction and removeItem on destruction; `archive reindex` calls reindexAll.
 */
import { AppError } from '../../errors';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel, readPageText, readPageTexts, STATUS, statusIn, type KnownItem, type StoredPageText } from '../records';
import { DEFAULT_CLEARANCE_LEVELS, type Principal } from '../access';
import { indexKey } from '../platform';
import type { CompactStats, RebuildStats, SearchBackend } from './backend';
import { SearchEngine, type SnapshotWritten } from './engine';
import type { SnapshotBlobs } from './snapshot';
import { OpenSearchBackend } from './opensearch';
import { metadataText, type IndexDocument, type SearchRequest, type SearchResult, type SearchScope } from './types';

export { SearchEngine, type LoadStats, type SnapshotWritten } from './engine';
export type { SnapshotBlobs } from './snapshot';
export { OpenSearchBackend } from './opensearch';
export type { CompactStats, RebuildStats, SearchBackend, SearchBackendKind } from './backend';
export { markSnippet } from './snippet';
export * from './types';


const engines = new WeakMap<Runtime, Promise<SearchEngine>>();
const backends = new WeakMap<Runtime, Promise<SearchBackend>>();

/**
 * The embedded engine of this runtime, whatever the configured backend: for tools and
 * benchmarks that measure or inspect the embedded index itself. The application uses searchBackend.
 */
export function searchEngine(rt: Runtime): Promise<SearchEngine> {
  let p = engines.get(rt);
  if (!p) {
    p = (async () => {
      // Opened (the index loaded into memory) by the first search, not by writers such as the worker.
      return new SearchEngine({
        db: rt.db,
        key: await indexKey(rt),
        text: (id, page) => pageText(rt, id, page),
        texts: (id, pages) => pageTexts(rt, id, pages),
        snapshots: snapshotBlobs(rt),
        warn: (msg, err) => rt.logger.warn({ err }, msg),
      });
    })();
    p.catch(() => engines.delete(rt));
    engines.set(rt, p);
  }
  return p;
}

/** Index snapshots in the application's blob store: encrypted at rest like every archived object. */
export function snapshotBlobs(rt: Runtime): SnapshotBlobs {
  return {
    get: (key) => rt.storage.blobs.getBuffer(key),
    put: async (key, data) => {
      await rt.storage.blobs.put(key, data, { contentType: 'application/octet-stream' });
    },
    remove: async (keys) => {
      if (keys.length) await rt.storage.blobs.shredMany(keys);
    },
  };
}

/**
 * Writes a snapshot of the embedded index when the log has moved `minEntries` past the newest
 * one, so that the next process to start (an API process, `archive search`) loads one blob set
 * plus a short log tail. Never throws: a failed snapshot only leaves the next start slower.
 */
export async function snapshotSearchIndex(rt: Runtime, minEntries = 1): Promise<SnapshotWritten | null> {
  try {
    const b = await searchBackend(rt);
    if (!(b instanceof SearchEngine) || !b.loaded) return null;
    if ((await b.snapshotLag()) < minEntries && b.loadStats?.source === 'snapshot') return null;
    const w = await b.writeSnapshot();
    if (w) rt.logger.info({ ...w }, 'search index snapshot written');
    return w;
  } catch (err) {
    rt.logger.warn({ err }, 'writing a search index snapshot failed; the next start loads more of the log');
    return null;
  }
}

/** The configured search backend of this runtime (ARCHIVE_SEARCH_BACKEND). */
export function searchBackend(rt: Runtime): Promise<SearchBackend> {
  let p = backends.get(rt);
  if (!p) {
    p = (async (): Promise<SearchBackend> => {
      const kind = rt.config.search.backend;
      if (kind === 'embedded') return searchEngine(rt);
      const { url, index, shards, replicas } = rt.config.search.opensearch;
      return new OpenSearchBackend({ url, index, shards, replicas, key: await indexKey(rt), text: (id, page) => pageText(rt, id, page), texts: (id, pages) => pageTexts(rt, id, pages) });
    })();
    p.catch(() => backends.delete(rt));
    backends.set(rt, p);
  }
  return p;
}

/** Uses a given backend for this runtime (benchmarks and tests that index without the blob store). */
export function useSearchBackend(rt: Runtime, backend: SearchBackend): void {
  backends.set(rt, Promise.resolve(backend));
  if (backend instanceof SearchEngine) engines.set(rt, Promise.resolve(backend));
}

/** Uses a given embedded engine for this runtime (see useSearchBackend). */
export function useSearchEngine(rt: Runtime, engine: SearchEngine): void {
  useSearchBackend(rt, engine);
}

interface Described {
  title?: string | null;
  persons?: Array<{ name: string | null; idNumber: string | null }>;
  units?: Array<{ name: string | null; creditCode: string | null }>;
  insuranceTypes?: string[];
}

interface Classified {
  documentType?: string | null;
  category?: string | null;
  categoryName?: string | null;
  retention?: string | null;
}

/** The index's view of an item, without page text. */
export function describeItem(item: ItemDoc): Omit<IndexDocument, 'pages'> {
  const md = (item.metadata ?? {}) as Described;
  const cls = (item.classification ?? {}) as Classified;
  const year = /^(\d{4})/.exec(item.documentDate ?? '')?.[1];
  return {
    id: String(item._id),
    fonds: item.fonds,
    title: item.title ?? md.title ?? null,
    archivalCode: item.archivalCode ?? null,
    documentType: cls.documentType ?? null,
    category: cls.category ?? null,
    categoryName: cls.categoryName ?? null,
    insurance: md.insuranceTypes ?? [],
    retention: cls.retention ?? null,
    year: year ? Number(year) : null,
    documentDate: item.documentDate ?? null,
    accessLevel: itemLevel(item),
    persons: (md.persons ?? []).map((p) => ({ name: p.name ?? null, idNumber: p.idNumber ?? null })),
    units: (md.units ?? []).map((u) => ({ name: u.name ?? null, creditCode: u.creditCode ?? null })),
  };
}

async function documentOf(rt: Runtime, item: ItemDoc, known?: ReadonlyMap<number, StoredPageText>): Promise<IndexDocument> {
  const pages: IndexDocument['pages'] = (await readPageTexts(rt, item, known)).map((t) => ({ n: t.n, text: t.text }));
  return { ...describeItem(item), pages };
}

/**
 * A hit's snippet pages: one read of the item (its status and page keys; the sealed description
 * only when page 0 is asked), then the pages' text blobs in parallel. Before, each page read the
 * item again and the pages came one after the other: on a loaded machine a search of 20 hits spent
 * most of its half second here.
 */
async function pageTexts(rt: Runtime, itemId: string, pages: number[]): Promise<Map<number, string>> {
  const q = itemModel(rt.db).findById(itemId);
  const item = await (pages.includes(0) ? q : q.select({ status: 1, pages: 1 })).lean<ItemDoc>();
  const out = new Map<number, string>();
  if (!item || !STATUS.searchable.has(item.status)) return out;
  await Promise.all(
    pages.map(async (page) => {
      if (page === 0) return void out.set(0, metadataText(describeItem(item)));
      const key = item.pages.find((p) => p.n === page)?.textKey;
      if (!key) return;
      // One unreadable page (shredded, storage hiccup) leaves only its own snippet out.
      const text = await readPageText(rt, key).then((t) => t.text, () => undefined);
      if (text !== undefined) out.set(page, text);
    }),
  );
  return out;
}

/** One page's text (the TextProvider form of pageTexts); throws when it cannot be read. */
async function pageText(rt: Runtime, itemId: string, page: number): Promise<string> {
  const text = (await pageTexts(rt, itemId, [page])).get(page);
  if (text === undefined) throw new Error('no readable text');
  return text;
}

/**
 * (Re)indexes one item as it is now; an item that is no longer searchable is removed. `known`: what
 * the caller holds of the item (the item pipeline after filing).
 */
export async function indexItem(rt: Runtime, itemId: string, known: KnownItem = {}): Promise<void> {
  const engine = await searchBackend(rt);
  const item = known.item ?? (await itemModel(rt.db).findById(itemId).lean<ItemDoc>());
  if (!item || !STATUS.searchable.has(item.status)) {
    await engine.remove([itemId]);
    return;
  }
  await engine.indexDocuments([await documentOf(rt, item, known.texts)]);
}

/** Takes an item out of search results (and snippets) at once. */
export async function removeItem(rt: Runtime, itemId: string): Promise<void> {
  await (await searchBackend(rt)).remove([itemId]);
}

/** Takes many items out at once (one log entry): destruction removes a batch this way. */
export async function removeItems(rt: Runtime, itemIds: string[]): Promise<void> {
  if (itemIds.length) await (await searchBackend(rt)).remove(itemIds);
}

/** Items as they are now, for re-indexing; destroyed or unfiled ones are skipped. */
async function* documentsOf(rt: Runtime, ids: string[]): AsyncIterable<IndexDocument> {
  const items = itemModel(rt.db);
  for (const id of ids) {
    const item = await items.findById(id).lean<ItemDoc>();
    if (item && STATUS.searchable.has(item.status)) yield await documentOf(rt, item);
  }
}

/** Merges small index segments once (see SearchEngine.compact). */
export async function mergeSegments(rt: Runtime): Promise<CompactStats> {
  return (await searchBackend(rt)).compact((ids) => documentsOf(rt, ids));
}

const merging = new WeakMap<Runtime, { running: boolean; last: number }>();

/**
 * Called by the worker after it indexed something: merges small segments in the background, at
 * most one merge per process at a time and one check per interval. Never throws: a failed merge
 * leaves the index as it was and the next check tries again.
 */
export function mergeSegmentsSoon(rt: Runtime, minIntervalMs = 30_000): void {
  const m = merging.get(rt) ?? { running: false, last: 0 };
  merging.set(rt, m);
  if (m.running || Date.now() - m.last < minIntervalMs) return;
  m.running = true;
  m.last = Date.now();
  void mergeSegments(rt)
    .then((s) => {
      if (s.merged || s.deleted) rt.logger.info({ ...s }, 'search segments merged');
    })
    .catch((err: unknown) => rt.logger.warn({ err }, 'merging search segments failed; will retry'))
    .finally(() => {
      m.running = false;
    });
}

export async function reindexAll(rt: Runtime, opts: { onProgress?: (s: RebuildStats) => void } = {}): Promise<RebuildStats> {
  const engine = await searchBackend(rt);
  const items = itemModel(rt.db);
  async function* source(): AsyncIterable<IndexDocument> {
    // One scan for the ids, then point reads: FerretDB answers those fast and memory stays flat.
    const ids = (await items.find({ status: statusIn(STATUS.searchable) }, { _id: 1 }).lean()).map((d) => String(d._id));
    for (const id of ids) {
      const item = await items.findById(id).lean<ItemDoc>();
      if (item && STATUS.searchable.has(item.status)) yield await documentOf(rt, item);
    }
  }
  return engine.rebuild(source(), opts);
}

/** What a user may find: their fonds and the highest access level their clearance covers. */
export function searchScopeOf(who: Principal, levels: readonly string[] = DEFAULT_CLEARANCE_LEVELS): SearchScope {
  return { fonds: who.scope.fonds === '*' ? undefined : [...who.scope.fonds], maxAccessLevel: levels.indexOf(who.clearance) };
}

/** How long an API search waits for a loading index before answering search_index_loading. */
const LOAD_WAIT_MS = 2000;

/**
 * A query. With whileLoading 'refuse' (the API), a process whose embedded index is still loading
 * answers 503 search_index_loading at once instead of holding the request until the load ends
 * (minutes at millions of pages); the load goes on in the background. Refusing rather than
 * answering from the part already loaded: a partial index would give wrong totals and silently
 * miss items, and "not found in the archive" is a conclusion people act on.
 */
export async function searchItems(rt: Runtime, req: SearchRequest, scope: SearchScope = {}, opts: { whileLoading?: 'wait' | 'refuse'; waitMs?: number } = {}): Promise<SearchResult> {
  const backend = await searchBackend(rt);
  if (opts.whileLoading === 'refuse' && !(await searchIndexReady(rt, opts.waitMs))) {
    throw new AppError('search_index_loading', {
      message: 'The full-text index is still loading after a restart; try again in a moment',
      zh: '服务刚启动，全文索引正在加载，请稍后再试',
      details: { segmentsLoaded: backend instanceof SearchEngine ? backend.segs.size : 0 },
    });
  }
  return backend.search(req, scope);
}

/**
 * Whether a query would answer from a complete index now. An embedded index still loading is
 * given waitMs (a small archive loads in a moment) and goes on loading in the background either
 * way (a failed load is started again here). The API's searches and the control socket's
 * `archive search` (which then lets the command line search by itself) ask this.
 */
export async function searchIndexReady(rt: Runtime, waitMs = LOAD_WAIT_MS): Promise<boolean> {
  const backend = await searchBackend(rt);
  if (!(backend instanceof SearchEngine) || backend.loaded) return true;
  const loading = backend.open();
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([loading.then(() => true), new Promise<false>((r) => (timer = setTimeout(() => r(false), waitMs)))]).catch((err: unknown) => {
    rt.logger.warn({ err }, 'loading the search index failed; the next search retries');
    return false;
  });
  clearTimeout(timer);
  return done;
}
