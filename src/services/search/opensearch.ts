/**
 * The OpenSearch search backend (issue #16 §4): the same SearchBackend as the embedded engine,
 * for archives that outgrow one process. Plain fetch to the REST API, no client library.
 *
 * What leaves the application, and what does not:
 * - Page text only as keyed-hash tokens (tokenize.ts, HMAC under the index key), written as
 *   whitespace-separated base-36 terms and indexed with the whitespace analyzer: the cluster
 *   never sees a word, a name or an ID number. Field `b` holds the character bigrams in text
 *   order (so a quoted phrase is a phrase query over their hashes), `t` the skip-bigrams, jieba
 *   words and codes.
 * - Persons only as blind-index keys (pids, names), exactly as the embedded segments keep them.
 * - Title, 档号 and document date, which hits show, sealed (AES-256-GCM under a key derived from
 *   the index key) in a stored, unindexed field.
 * - The filter and facet fields as keywords (fonds, access level, category, document type,
 *   insurance, year, retention): the issue's choice, as in the embedded segments.
 * Snippets are made here from page text that the TextProvider decrypts at query time.
 *
 * Ranking statistics stay inside the caller's scope (issue #13.6): the index's similarity is a
 * script that reads only the page's own term frequency and length, never the index-wide
 * document frequencies, and each query term's weight (BM25's idf) is computed here from counts
 * taken inside the caller's scope by a first request. A score therefore says nothing about pages
 * the caller cannot see.
 *
 * Freshness: every indexDocuments and remove ends with a refresh, so an item is searchable (or
 * gone) when indexItem / removeItem resolve, in every process, as with the embedded engine.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { AppError } from '../../errors';
import type { CompactStats, RebuildOptions, RebuildStats, SearchBackend } from './backend';
import { dateNumber } from './facets';
import { parseQuery, type Clause } from './query';
import { makeSnippet } from './snippet';
import { COMMON_LINE, RANK_WEIGHTS } from './rank';
import { bigramsOf, skipgramsOf, TokenHasher, tokenizePage } from './tokenize';
import { FACET_FIELDS, metadataText, type FacetField, type IndexDocument, type SearchRequest, type SearchResult, type SearchScope, type TextProvider, type PagesTextProvider } from './types';

export interface OpenSearchDeps {
  /** e.g. http://127.0.0.1:9200 */
  url: string;
  /** the alias the application reads and writes; each rebuild makes a new index behind it */
  index: string;
  key: Buffer;
  text: TextProvider;
  /** Snippet pages of a hit in one go (see PagesTextProvider); without it, `text` page by page. */
  texts?: PagesTextProvider;
  shards?: number;
  replicas?: number;
  /** bulk requests a rebuild keeps in flight (default 2) */
  bulkDepth?: number;
}

// The embedded ranking's weights (rank.ts), so both backends order results alike.
const { K1, B, FUZZY_WEIGHT, PERSON_BOOST } = RANK_WEIGHTS;
/** A fixed average page length (tokens): the real one is an index-wide statistic. */
const AVG_LEN = 400;
const PROXIMITY_BOOST = 1;
const SEP = '-';

type Json = Record<string, unknown>;

/** How long a scoped page count may be reused (see ScopedCounts). */
const COUNTS_TTL_MS = 60_000;
/** Scoped page counts kept at most, over all scopes (the oldest scope's go first). */
const COUNTS_MAX = 20_000;

/**
 * Scoped page counts (issue #13.6's in-scope ranking statistics) kept for a short while: the
 * common bigrams of an archive (有限, 公司, 保险) recur in most queries, and counting one across a
 * million pages is most of such a query's time. Keyed by the scope (fonds and clearance) first:
 * a count is only ever served to the scope it was counted in. Entries expire after
 * COUNTS_TTL_MS, so a write by another process shifts a weight for at most that long (a weight,
 * never which items match); this process's own writes and rebuilds clear the cache at once.
 */
export class ScopedCounts {
  private readonly scopes = new Map<string, { at: number; n: number | null; df: Map<string, number> }>();
  private size = 0;
  constructor(
    private readonly ttlMs = COUNTS_TTL_MS,
    private readonly max = COUNTS_MAX,
    private readonly now: () => number = Date.now,
  ) {}

  static keyOf(scope: SearchScope): string {
    return `${scope.fonds ? JSON.stringify([...scope.fonds].sort()) : '*'}|${scope.maxAccessLevel ?? '*'}`;
  }

  private entry(scope: SearchScope): { at: number; n: number | null; df: Map<string, number> } {
    const key = ScopedCounts.keyOf(scope);
    let e = this.scopes.get(key);
    if (e && this.now() - e.at > this.ttlMs) {
      this.size -= e.df.size;
      this.scopes.delete(key);
      e = undefined;
    }
    if (!e) {
      e = { at: this.now(), n: null, df: new Map() };
      this.scopes.set(key, e);
    }
    return e;
  }

  /** The scope's page count and the terms' counts that are known (fresh), by `field:hash`. */
  get(scope: SearchScope, terms: string[]): { n: number | null; df: Map<string, number> } {
    const e = this.entry(scope);
    const df = new Map<string, number>();
    for (const t of terms) {
      const v = e.df.get(t);
      if (v !== undefined) df.set(t, v);
    }
    return { n: e.n, df };
  }

  put(scope: SearchScope, n: number, df: Map<string, number>): void {
    const e = this.entry(scope);
    e.n = n;
    for (const [t, v] of df) {
      if (!e.df.has(t)) this.size++;
      e.df.set(t, v);
    }
    // Over the bound: drop whole scopes, oldest first (never a part of the current one's counts).
    for (const [k, old] of this.scopes) {
      if (this.size <= this.max || old === e) break;
      this.size -= old.df.size;
      this.scopes.delete(k);
    }
    if (this.size > this.max) {
      this.size -= e.df.size;
      e.df.clear();
    }
  }

  clear(): void {
    this.scopes.clear();
    this.size = 0;
  }
}

interface OsDoc {
  fonds: string;
  access: number;
  documentType: string | null;
  category: string | null;
  insurance: string[];
  retention: string | null;
  year: string | null;
  yearNum: number | null;
  date: number;
  pids: string[];
  names: string[];
  meta: string;
  pages: Array<{ n: number; b: string; t: string }>;
}

interface SealedMeta {
  title: string | null;
  archivalCode: string | null;
  documentDate: string | null;
}

/**
 * Base-36 text of a token hash: the same as n.toString(36), in two parts below 2^31. V8 converts
 * a 48-bit double to base 36 on a slow path (~1 µs, 7x the split): it was half of this process's
 * time in a rebuild.
 */
const B36_5 = 36 ** 5;
function h36(n: number): string {
  const hi = Math.floor(n / B36_5);
  const lo = n - hi * B36_5;
  return hi ? hi.toString(36) + lo.toString(36).padStart(5, '0') : lo.toString(36);
}

export class OpenSearchBackend implements SearchBackend {
  readonly kind = 'opensearch' as const;
  readonly hasher: TokenHasher;
  private readonly metaKey: Buffer;
  private opened: Promise<void> | null = null;
  /** while this process rebuilds: the new index, which every write also goes to */
  private rebuilding: string | null = null;
  /** scoped page counts for BM25's idf, reused for a short while (see ScopedCounts) */
  readonly counts = new ScopedCounts();

  constructor(private readonly deps: OpenSearchDeps) {
    this.hasher = new TokenHasher(deps.key);
    this.metaKey = createHmac('sha256', deps.key).update('opensearch:meta').digest();
  }

  // ---------- HTTP ----------

  private async call<T = Json>(method: string, path: string, body?: unknown, ok: number[] = []): Promise<{ status: number; json: T }> {
    const ndjson = Array.isArray(body);
    let res: Response;
    try {
      res = await fetch(`${this.deps.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': ndjson ? 'application/x-ndjson' : 'application/json' },
        body: body === undefined ? undefined : ndjson ? body.map((l) => JSON.stringify(l)).join('\n') + '\n' : JSON.stringify(body),
      });
    } catch (err) {
      throw new AppError('service_unavailable', { message: `OpenSearch at ${this.deps.url} is unreachable`, zh: `检索服务 OpenSearch（${this.deps.url}）无法连接`, cause: err });
    }
    const text = await res.text();
    let json: T;
    try {
      json = (text ? JSON.parse(text) : {}) as T;
    } catch (err) {
      // A proxy's error page, a truncated answer: not OpenSearch speaking.
      throw new AppError('service_unavailable', { message: `OpenSearch ${method} ${path} answered ${res.status} with no JSON`, zh: `检索服务 OpenSearch 返回了无法解析的应答（${res.status}）`, cause: err });
    }
    if (!res.ok && !ok.includes(res.status)) {
      const reason = (json as { error?: { type?: string; reason?: string } }).error;
      throw new AppError('service_unavailable', {
        message: `OpenSearch ${method} ${path} failed: ${res.status} ${reason?.type ?? ''} ${reason?.reason ?? ''}`.trim(),
        zh: `检索服务 OpenSearch 请求失败（${res.status}）`,
        details: { status: res.status, type: reason?.type },
      });
    }
    return { status: res.status, json };
  }

  // ---------- the index ----------

  private indexBody(): Json {
    const hashes = { type: 'text', analyzer: 'whitespace', norms: true, similarity: 'page_tf' };
    return {
      settings: {
        number_of_shards: this.deps.shards ?? 1,
        number_of_replicas: this.deps.replicas ?? 0,
        'index.mapping.nested_objects.limit': 20_000,
        similarity: {
          // BM25's term-frequency and length part, with the weight (idf) passed as the query
          // boost: nothing here reads a collection statistic (see the module comment).
          page_tf: {
            type: 'scripted',
            script: {
              source: `double tf = doc.freq; double norm = ${K1} * (${1 - B} + ${B} * doc.length / ${AVG_LEN}.0); return query.boost * tf * ${K1 + 1} / (tf + norm);`,
            },
          },
        },
      },
      mappings: {
        dynamic: 'strict',
        properties: {
          fonds: { type: 'keyword' },
          access: { type: 'integer' },
          documentType: { type: 'keyword' },
          category: { type: 'keyword' },
          insurance: { type: 'keyword' },
          retention: { type: 'keyword' },
          year: { type: 'keyword' },
          yearNum: { type: 'integer' },
          date: { type: 'integer' },
          pids: { type: 'keyword' },
          names: { type: 'keyword' },
          meta: { type: 'binary' },
          pages: {
            type: 'nested',
            properties: {
              n: { type: 'integer' },
              b: { ...hashes, index_options: 'positions' },
              t: { ...hashes, index_options: 'freqs' },
            },
          },
        },
      },
    };
  }

  private async createIndex(): Promise<string> {
    const name = `${this.deps.index}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
    await this.call('PUT', `/${name}`, this.indexBody());
    return name;
  }

  /** The concrete indices behind the alias. */
  private async behind(): Promise<string[]> {
    const { status, json } = await this.call<Record<string, unknown>>('GET', `/_alias/${this.deps.index}`, undefined, [404]);
    return status === 404 ? [] : Object.keys(json).sort();
  }

  /** The concrete index behind the alias, or null. */
  private async current(): Promise<string | null> {
    return (await this.behind())[0] ?? null;
  }

  open(): Promise<void> {
    this.opened ??= (async () => {
      if (await this.current()) return;
      const name = await this.createIndex();
      await this.call('POST', '/_aliases', { actions: [{ add: { index: name, alias: this.deps.index } }] });
      // Two processes may race here: both converge on the first index by name, the other goes.
      const all = await this.behind();
      if (all.length > 1 && all[0] !== name) {
        await this.call('POST', '/_aliases', { actions: [{ remove: { index: name, alias: this.deps.index } }] }, [404]);
        await this.call('DELETE', `/${name}`, undefined, [404]);
      }
    })().catch((err: unknown) => {
      this.opened = null;
      throw err;
    });
    return this.opened;
  }

  async refresh(): Promise<void> {
    // Writes refresh before they resolve (see the module comment): nothing to follow.
    await this.open();
  }

  // ---------- writing ----------

  private seal(m: SealedMeta): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.metaKey, iv);
    const body = Buffer.concat([c.update(JSON.stringify(m), 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  private open_(sealed: string): SealedMeta {
    const raw = Buffer.from(sealed, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.metaKey, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8')) as SealedMeta;
  }

  /** A page as two whitespace-separated fields of token hashes. */
  private pageFields(n: number, text: string): { n: number; b: string; t: string } {
    const tk = tokenizePage(text);
    // Bigrams in text order; a separator where a run of CJK text breaks, so that a phrase never
    // matches across two runs.
    const at: Array<string | undefined> = [];
    for (const [key, positions] of tk.bigrams) {
      const h = h36(this.hasher.hashPair('b', key));
      for (const p of positions) at[p] = h;
    }
    const b: string[] = [];
    for (let i = 0; i < at.length; i++) {
      const h = at[i];
      if (h !== undefined) b.push(h);
      else if (b.length && b[b.length - 1] !== SEP) b.push(SEP);
    }
    const t: string[] = [];
    for (const [key, count] of tk.skips) {
      const h = h36(this.hasher.hashPair('s', key));
      for (let i = 0; i < count; i++) t.push(h);
    }
    for (const [w, count] of tk.words) {
      const h = h36(this.hasher.hash(w));
      for (let i = 0; i < count; i++) t.push(h);
    }
    return { n, b: b.join(' '), t: t.join(' ') };
  }

  toDoc(d: IndexDocument): OsDoc {
    const pages = [this.pageFields(0, metadataText(d))];
    for (const p of d.pages) if (p.n > 0) pages.push(this.pageFields(p.n, p.text));
    return {
      fonds: d.fonds,
      access: d.accessLevel,
      documentType: d.documentType,
      category: d.category,
      insurance: d.insurance,
      retention: d.retention,
      year: d.year === null ? null : String(d.year),
      yearNum: d.year,
      date: dateNumber(d.documentDate),
      pids: [...new Set(d.persons.map((p) => p.idNumber).filter((x): x is string => !!x))].map((x) => this.hasher.blind('pid', x.toUpperCase())),
      names: [...new Set(d.persons.map((p) => p.name).filter((x): x is string => !!x))].map((x) => this.hasher.blind('name', x)),
      meta: this.seal({ title: d.title, archivalCode: d.archivalCode, documentDate: d.documentDate }),
      pages,
    };
  }

  private async bulk(index: string, lines: unknown[], refresh: boolean): Promise<void> {
    if (!lines.length) return;
    const { json } = await this.call<{ errors: boolean; items: Array<Record<string, { status: number; error?: { type: string; reason: string } }>> }>(
      'POST',
      `/${index}/_bulk${refresh ? '?refresh=true' : ''}`,
      lines,
    );
    if (json.errors) {
      const bad = json.items.map((i) => Object.values(i)[0]!).find((r) => r.error && r.status !== 404);
      if (bad) {
        throw new AppError('service_unavailable', { message: `OpenSearch refused a write: ${bad.error!.type} ${bad.error!.reason}`, zh: '检索服务 OpenSearch 拒绝写入', details: { type: bad.error!.type } });
      }
    }
  }

  private targets(): string[] {
    return this.rebuilding ? [this.deps.index, this.rebuilding] : [this.deps.index];
  }

  async indexDocuments(docs: IndexDocument[]): Promise<void> {
    if (!docs.length) return;
    await this.open();
    const lines: unknown[] = [];
    for (const d of docs) lines.push({ index: { _id: d.id } }, this.toDoc(d));
    this.hasher.trim();
    for (const t of this.targets()) await this.bulk(t, lines, true);
    this.counts.clear();
  }

  async remove(itemIds: string[]): Promise<void> {
    if (!itemIds.length) return;
    await this.open();
    for (const t of this.targets()) await this.bulk(t, itemIds.map((id) => ({ delete: { _id: id } })), true);
    this.counts.clear();
  }

  /**
   * Builds a new index from the source, then moves the alias to it in one step and drops the old
   * one: searches see the old index until the new one is complete. Writes made by this process
   * meanwhile go to both; writes from other processes during a rebuild reach only the old index
   * (run `archive reindex` with the workers idle, or `archive fsck --repair` afterwards).
   */
  async rebuild(source: AsyncIterable<IndexDocument>, opts: RebuildOptions = {}): Promise<RebuildStats> {
    await this.open();
    const old = await this.current();
    const name = await this.createIndex();
    this.rebuilding = name;
    const stats: RebuildStats = { items: 0, pages: 0, segments: 0, bytes: 0, rawBytes: 0 };
    // Bulk requests in flight while the next batch is tokenised and hashed: the node indexes them
    // (two at once, on two threads) while this process prepares the next (sequentially, each
    // waited for the other). Measured here, 15k pages, two tries on the shared 2-core machine:
    // 948 and 790 pages/s with one in flight, 1,228 and 845 with two.
    const inFlight: Array<Promise<void>> = [];
    const depth = Math.max(1, this.deps.bulkDepth ?? 2);
    try {
      // No refreshes while loading (nothing searches this index yet); restored before the alias moves.
      await this.call('PUT', `/${name}/_settings`, { index: { refresh_interval: '-1' } });
      let lines: string[] = [];
      let bytes = 0;
      let batchPages = 0;
      const flush = async () => {
        if (!lines.length) return;
        const body = lines.join('\n') + '\n';
        lines = [];
        batchPages = 0;
        if (inFlight.length >= depth) await inFlight.shift();
        const req = (async () => {
          const res = await fetch(`${this.deps.url}/${name}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
          const json = (await res.json()) as { errors?: boolean };
          if (!res.ok || json.errors) throw new AppError('service_unavailable', { message: `OpenSearch refused a bulk load (${res.status})`, zh: '检索服务 OpenSearch 拒绝批量写入' });
          stats.segments++;
          stats.bytes += body.length;
          opts.onProgress?.(stats);
        })();
        // Surfaced by a later flush or the final wait, never as an unhandled rejection.
        req.catch(() => undefined);
        inFlight.push(req);
      };
      for await (const d of source) {
        const line = JSON.stringify(this.toDoc(d));
        lines.push(JSON.stringify({ index: { _id: d.id } }), line);
        bytes += line.length;
        stats.items++;
        stats.pages += d.pages.length;
        batchPages += d.pages.length + 1;
        for (const p of d.pages) stats.rawBytes += Buffer.byteLength(p.text);
        if (batchPages >= (opts.segmentPages ?? 5_000) || bytes > 20_000_000) {
          bytes = 0;
          this.hasher.trim();
          await flush();
        }
      }
      await flush();
      await Promise.all(inFlight);
      await this.call('PUT', `/${name}/_settings`, { index: { refresh_interval: '1s' } });
      await this.call('POST', `/${name}/_refresh`);
      const actions: Json[] = [{ add: { index: name, alias: this.deps.index } }];
      if (old) actions.push({ remove: { index: old, alias: this.deps.index } });
      await this.call('POST', '/_aliases', { actions });
    } catch (err) {
      this.rebuilding = null;
      // A bulk still in flight would otherwise land after the delete.
      await Promise.allSettled(inFlight);
      await this.call('DELETE', `/${name}`, undefined, [404]).catch(() => undefined);
      throw err;
    }
    this.rebuilding = null;
    this.counts.clear();
    if (old) await this.call('DELETE', `/${old}`, undefined, [404]);
    return stats;
  }

  compact(): Promise<CompactStats> {
    // OpenSearch merges its own segments in the background.
    return Promise.resolve({ merged: 0, items: 0, into: null, deleted: 0 });
  }

  async indexed(itemId: string): Promise<{ archivalCode: string | null } | null> {
    await this.open();
    const { status, json } = await this.call<{ found?: boolean; _source?: { meta: string } }>('GET', `/${this.deps.index}/_doc/${encodeURIComponent(itemId)}?_source=meta`, undefined, [404]);
    if (status === 404 || !json.found || !json._source) return null;
    return { archivalCode: this.open_(json._source.meta).archivalCode };
  }

  async *ids(): AsyncIterable<string> {
    await this.open();
    let page = await this.call<{ _scroll_id: string; hits: { hits: Array<{ _id: string }> } }>('POST', `/${this.deps.index}/_search?scroll=1m`, { size: 1000, _source: false, sort: ['_doc'] });
    try {
      while (page.json.hits.hits.length) {
        for (const h of page.json.hits.hits) yield h._id;
        page = await this.call('POST', '/_search/scroll', { scroll: '1m', scroll_id: page.json._scroll_id });
      }
    } finally {
      await this.call('DELETE', '/_search/scroll', { scroll_id: page.json._scroll_id }, [404]).catch(() => undefined);
    }
  }

  // ---------- querying ----------

  private scopeFilter(scope: SearchScope): Json[] {
    const out: Json[] = [];
    if (scope.fonds) out.push(scope.fonds.length ? { terms: { fonds: scope.fonds } } : { match_none: {} });
    if (scope.maxAccessLevel !== undefined) out.push({ range: { access: { lte: scope.maxAccessLevel } } });
    return out;
  }

  async count(scope: SearchScope = {}): Promise<number> {
    await this.open();
    const { json } = await this.call<{ count: number }>('POST', `/${this.deps.index}/_count`, { query: { bool: { filter: this.scopeFilter(scope) } } });
    return json.count;
  }

  /**
   * Per hashed term (field + hash): BM25's idf over the pages inside the caller's scope. The
   * counts are taken over the pages of the items in scope that hold at least one of the terms
   * (every page with a term belongs to such an item, so the counts are the same): counting
   * over every page in scope cost (pages x terms), 1.5M x 20 checks per query at a million
   * pages, for a name or an ID number that is on a handful of pages. N, the pages in scope,
   * is counted apart (a global aggregation: it ignores that restriction).
   */
  private async weights(terms: Array<{ field: 'b' | 't'; h: string }>, scope: SearchScope): Promise<{ w: Map<string, number>; df: Map<string, number>; n: number }> {
    const out = new Map<string, number>();
    const all = [...new Map(terms.map((t) => [`${t.field}:${t.h}`, t])).values()];
    const known = this.counts.get(scope, all.map((t) => `${t.field}:${t.h}`));
    const idf = (N: number, df: number) => Math.log(1 + (N - df + 0.5) / (df + 0.5));
    if (known.n !== null && known.df.size === all.length) {
      for (const [k, df] of known.df) out.set(k, idf(known.n, df));
      return { w: out, df: known.df, n: known.n };
    }
    if (!all.length) return { w: out, df: new Map(), n: 0 };
    // Only the terms not counted lately (for this scope) are counted now.
    const uniq = all.filter((t) => !known.df.has(`${t.field}:${t.h}`));
    if (!uniq.length) {
      const n = await this.scopePages(scope);
      this.counts.put(scope, n, new Map());
      for (const [k, df] of known.df) out.set(k, idf(n, df));
      return { w: out, df: known.df, n };
    }
    const aggs: Json = {};
    uniq.forEach((t, i) => (aggs[`t${i}`] = { filter: { term: { [`pages.${t.field}`]: t.h } } }));
    const any: Json[] = [];
    for (const f of ['b', 't'] as const) {
      const hs = uniq.filter((t) => t.field === f).map((t) => t.h);
      if (hs.length) any.push({ terms: { [`pages.${f}`]: hs } });
    }
    const { json } = await this.call<{ aggregations: { p: Record<string, { doc_count: number }>; all: { s: { n: { doc_count: number } } } } }>('POST', `/${this.deps.index}/_search`, {
      size: 0,
      track_total_hits: false,
      query: { bool: { filter: [...this.scopeFilter(scope), { nested: { path: 'pages', query: { bool: { should: any, minimum_should_match: 1 } } } }] } },
      aggs: {
        p: { nested: { path: 'pages' }, aggs },
        all: { global: {}, aggs: { s: { filter: { bool: { filter: this.scopeFilter(scope) } }, aggs: { n: { nested: { path: 'pages' } } } } } },
      },
    });
    const N = json.aggregations.all.s.n.doc_count;
    const counted = new Map<string, number>();
    uniq.forEach((t, i) => counted.set(`${t.field}:${t.h}`, json.aggregations.p[`t${i}`]!.doc_count));
    this.counts.put(scope, N, counted);
    const df = new Map([...known.df, ...counted]);
    for (const [k, d] of df) out.set(k, idf(N, d));
    return { w: out, df, n: N };
  }

  /** Pages (nested documents) in the caller's scope: BM25's N. */
  private async scopePages(scope: SearchScope): Promise<number> {
    const { json } = await this.call<{ aggregations: { n: { doc_count: number } } }>('POST', `/${this.deps.index}/_search`, {
      size: 0,
      track_total_hits: false,
      query: { bool: { filter: this.scopeFilter(scope) } },
      aggs: { n: { nested: { path: 'pages' } } },
    });
    return json.aggregations.n.doc_count;
  }

  /**
   * Whether a clause is common in the caller's scope, as rank.ts decides it: every bigram on
   * more than the line's share of the pages. Such a clause is matched by its bigrams' presence,
   * without a phrase (positions), fuzzy matching or proximity, as the embedded engine does.
   */
  private isCommon(c: Clause, df: Map<string, number>, n: number): boolean {
    if (c.exact || c.negate || c.kind !== 'cjk' || c.chars.length < 2) return false;
    const line = Math.max(COMMON_LINE.FUZZY_MAX_DF, COMMON_LINE.FUZZY_MAX_SHARE * n);
    return this.clauseTerms(c).bigrams.every((h) => (df.get(`b:${h}`) ?? 0) > line);
  }

  private clauseTerms(c: Clause): { bigrams: string[]; others: string[]; word: string | null } {
    const h = (tok: string) => h36(this.hasher.hash(tok));
    if (c.kind === 'code') return { bigrams: [], others: [h(`x:${c.text}`)], word: null };
    if (c.chars.length === 1) return { bigrams: [], others: [h(`w:${c.text}`)], word: null };
    return { bigrams: bigramsOf(c.chars).map(h), others: skipgramsOf(c.chars).map(h), word: c.exact || c.negate ? null : h(`w:${c.text}`) };
  }

  /** A clause as a query on one page (nested document). */
  private clauseQuery(c: Clause, i: number, w: Map<string, number>, common = false): Json {
    const { bigrams, others, word } = this.clauseTerms(c);
    const wt = (field: 'b' | 't', h: string) => w.get(`${field}:${h}`) ?? 1;
    if (!bigrams.length) {
      // Codes and single characters match exactly or not at all.
      return { term: { 'pages.t': { value: others[0]!, boost: wt('t', others[0]!), _name: `x${i}` } } };
    }
    if (common) {
      // Every bigram on the page (or the word): an exact hit for a common word, scored per
      // token as rank.ts scores it; no phrase positions, no fuzzy alternatives.
      const all: Json = { bool: { must: bigrams.map((h) => ({ term: { 'pages.b': { value: h, boost: wt('b', h) } } })) } };
      return { bool: { should: word ? [all, { term: { 'pages.t': { value: word, boost: wt('t', word) } } }] : [all], minimum_should_match: 1, _name: `x${i}` } };
    }
    const phraseBoost = bigrams.reduce((a, h) => a + wt('b', h), 0);
    const phrase: Json =
      bigrams.length === 1
        ? { term: { 'pages.b': { value: bigrams[0]!, boost: phraseBoost, _name: `x${i}` } } }
        : { match_phrase: { 'pages.b': { query: bigrams.join(' '), boost: phraseBoost, _name: `x${i}` } } };
    if (c.exact || c.negate) return phrase;
    const should: Json[] = [phrase];
    if (word) should.push({ term: { 'pages.t': { value: word, boost: wt('t', word) } } });
    // At most one misread character: enough of the bigrams and skip-bigrams, as rank.ts counts them.
    if (others.length) {
      const grams = bigrams.length + others.length;
      const need = bigrams.length <= 2 ? 1 : Math.max(1, grams - 4, Math.ceil(0.4 * grams));
      should.push({
        bool: {
          should: [...bigrams.map((h) => ({ term: { 'pages.b': { value: h, boost: (wt('b', h) * FUZZY_WEIGHT) / grams } } })), ...others.map((h) => ({ term: { 'pages.t': { value: h, boost: (wt('t', h) * FUZZY_WEIGHT) / grams } } }))],
          minimum_should_match: need,
        },
      });
    }
    return { bool: { should, minimum_should_match: 1 } };
  }

  /** Clauses of one unquoted chunk close together on a page: a bonus, as rank.ts gives. */
  private proximity(clauses: Clause[], common: boolean[]): Json[] {
    const out: Json[] = [];
    // Runs of neighbouring clauses of one chunk that are matched with positions (rank.ts gives a
    // bonus per such neighbouring pair; a common clause has no positions there and breaks a run).
    const runs: Clause[][] = [];
    let run: Clause[] = [];
    clauses.forEach((c, i) => {
      const positioned = !c.negate && c.kind === 'cjk' && c.chars.length >= 2 && !common[i];
      if (positioned && run.length && run[run.length - 1]!.group === c.group) run.push(c);
      else {
        runs.push(run);
        run = positioned ? [c] : [];
      }
    });
    runs.push(run);
    for (const g of runs) {
      if (g.length < 2) continue;
      const spans = g.map((c) => {
        const bg = this.clauseTerms(c).bigrams.map((h) => ({ span_term: { 'pages.b': h } }));
        return bg.length === 1 ? bg[0]! : { span_near: { clauses: bg, slop: 0, in_order: true } };
      });
      out.push({ nested: { path: 'pages', score_mode: 'max', query: { span_near: { clauses: spans, slop: 8, in_order: false, boost: PROXIMITY_BOOST } } } });
    }
    return out;
  }

  private filterQueries(req: SearchRequest): Partial<Record<FacetField, Json>> {
    const f = req.filters ?? {};
    const out: Partial<Record<FacetField, Json>> = {};
    for (const k of ['documentType', 'category', 'retention', 'fonds', 'insurance'] as const) {
      const v = f[k];
      if (v?.length) out[k] = { terms: { [k]: v } };
    }
    if (f.yearFrom !== undefined || f.yearTo !== undefined) {
      out.year = { range: { yearNum: { ...(f.yearFrom !== undefined ? { gte: f.yearFrom } : {}), ...(f.yearTo !== undefined ? { lte: f.yearTo } : {}) } } };
    }
    return out;
  }

  async search(req: SearchRequest, scope: SearchScope = {}): Promise<SearchResult> {
    const t0 = performance.now();
    await this.open();
    const clauses = parseQuery(req.q);
    const positive = clauses.filter((c) => !c.negate);
    const negative = clauses.filter((c) => c.negate);
    const terms: Array<{ field: 'b' | 't'; h: string }> = [];
    for (const c of positive) {
      const t = this.clauseTerms(c);
      for (const h of t.bigrams) terms.push({ field: 'b', h });
      for (const h of t.others) terms.push({ field: 't', h });
      if (t.word) terms.push({ field: 't', h: t.word });
    }
    const { w, df, n } = await this.weights(terms, scope);
    const common = positive.map((c) => this.isCommon(c, df, n));

    const must: Json[] = positive.map((c, i) => ({
      nested: {
        path: 'pages',
        score_mode: 'max',
        query: this.clauseQuery(c, i, w, common[i]),
        inner_hits: { name: `c${i}`, size: 3, _source: false, docvalue_fields: ['pages.n'] },
      },
    }));
    const should: Json[] = [...this.proximity(positive, common)];
    positive.forEach((c) => {
      // A clause that is exactly a person's ID number or name (blind index) earns a large bonus.
      const field = c.kind === 'code' ? 'pids' : 'names';
      const value = c.kind === 'code' ? this.hasher.blind('pid', c.text) : this.hasher.blind('name', c.text);
      should.push({ constant_score: { filter: { term: { [field]: value } }, boost: PERSON_BOOST } });
    });
    const mustNot: Json[] = negative.map((c, i) => ({ nested: { path: 'pages', query: this.clauseQuery(c, 1000 + i, w) } }));
    const filter: Json[] = this.scopeFilter(scope);
    if (req.filters?.personId) filter.push({ term: { pids: this.hasher.blind('pid', req.filters.personId.toUpperCase()) } });
    const query: Json = {
      bool: {
        ...(must.length ? { must } : { must: [{ match_all: {} }] }),
        ...(positive.length && should.length ? { should } : {}),
        ...(mustNot.length ? { must_not: mustNot } : {}),
        filter,
      },
    };
    // Filters apply to hits and totals (post_filter); each facet counts under every filter but
    // its own, so a value's count is the total the user gets by choosing it.
    const fq = this.filterQueries(req);
    const allFilters = Object.values(fq);
    const aggs: Json = {};
    if (req.facets !== false) {
      for (const k of FACET_FIELDS) {
        const others = (Object.keys(fq) as FacetField[]).filter((o) => o !== k).map((o) => fq[o]!);
        aggs[k] = { filter: { bool: { filter: others } }, aggs: { v: { terms: { field: k, size: 1000 } } } };
      }
    }
    const offset = req.offset ?? 0;
    const limit = req.limit ?? 20;
    const sort = req.sort === 'date' ? [{ date: 'desc' }, { _score: 'desc' }] : [{ _score: 'desc' }, { date: 'desc' }];
    type InnerHits = Record<string, { hits: { hits: Array<{ _score: number; fields?: { 'pages.n'?: number[] }; matched_queries?: string[] }> } }>;
    // The shard request cache keeps a search's result (top hits, totals, facets) per shard
    // until the next refresh that changes the shard, keyed by the whole request: a repeated
    // browse of common words (养老保险 待遇) is then answered without scoring every matching
    // page again; a filing's refresh clears it, as a change clears the embedded engine's clause
    // cache. The key holds the scope filter and the in-scope weights, so one scope's result is
    // never served to another. Only size=0 requests are cached unless asked for, as here.
    const { json } = await this.call<{
      hits: { total: { value: number }; hits: Array<{ _id: string; _score: number | null; sort?: unknown[]; _source: Pick<OsDoc, 'fonds' | 'documentType' | 'meta'>; inner_hits?: InnerHits }> };
      aggregations?: Record<string, { v: { buckets: Array<{ key: string; doc_count: number }> } }>;
    }>('POST', `/${this.deps.index}/_search?request_cache=true`, {
      from: offset,
      size: limit,
      track_total_hits: true,
      track_scores: true,
      query,
      ...(allFilters.length ? { post_filter: { bool: { filter: allFilters } } } : {}),
      aggs,
      sort,
      _source: ['fonds', 'documentType', 'meta'],
    });

    const hits = await Promise.all(
      json.hits.hits.map(async (h) => {
        const meta = this.open_(h._source.meta);
        const pageScore = new Map<number, number>();
        let exact = true;
        positive.forEach((c, i) => {
          const inner = h.inner_hits?.[`c${i}`]?.hits.hits ?? [];
          if (!inner.some((ih) => ih.matched_queries?.includes(`x${i}`))) exact = false;
          for (const ih of inner) {
            const n = ih.fields?.['pages.n']?.[0];
            if (n !== undefined) pageScore.set(n, Math.max(pageScore.get(n) ?? 0, ih._score));
          }
        });
        const pages = [...pageScore.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([n]) => n);
        return {
          id: h._id,
          title: meta.title,
          archivalCode: meta.archivalCode,
          documentType: h._source.documentType ?? null,
          documentDate: meta.documentDate,
          fonds: h._source.fonds,
          score: Math.round((h._score ?? 0) * 1000) / 1000,
          pages,
          exact,
          snippets: req.snippets === false ? [] : await this.snippets(h._id, pages.slice(0, 2), clauses),
        };
      }),
    );
    const facets = Object.fromEntries(
      FACET_FIELDS.map((k) => [k, (json.aggregations?.[k]?.v.buckets ?? []).map((b) => ({ value: String(b.key), count: b.doc_count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value))]),
    ) as SearchResult['facets'];
    return { total: json.hits.total.value, hits, facets, tookMs: Math.round((performance.now() - t0) * 10) / 10 };
  }

  private async snippets(itemId: string, pages: number[], clauses: Clause[]): Promise<SearchResult['hits'][number]['snippets']> {
    const out = [];
    const batch = this.deps.texts ? await this.deps.texts(itemId, pages).catch(() => new Map<number, string>()) : null;
    for (const page of pages) {
      try {
        const text = batch ? batch.get(page) : await this.deps.text(itemId, page);
        if (text !== undefined) out.push(makeSnippet(text, page, clauses));
      } catch {
        // Text unreadable (destroyed, shredded, storage down): the hit stands without a snippet.
      }
    }
    return out;
  }

  /** Deletes the alias and every index behind it (tests and benchmarks clean up with this). */
  async drop(): Promise<void> {
    const { status, json } = await this.call<Record<string, unknown>>('GET', `/_alias/${this.deps.index}`, undefined, [404]);
    if (status !== 404) for (const name of Object.keys(json)) await this.call('DELETE', `/${name}`, undefined, [404]);
    this.opened = null;
  }
}
