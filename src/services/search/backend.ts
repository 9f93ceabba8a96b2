/**
 * What the rest of the archive needs from a full-text search backend (issue #16 §4). Two
 * implementations keep the same guarantees: the embedded engine (engine.ts: segments in the
 * database, queries answered from process memory, one machine) and OpenSearch (opensearch.ts: an
 * OpenSearch cluster, many machines). Both receive only keyed-hash tokens, blind-indexed person
 * keys and the facet keywords, never a word or an ID number in clear; both apply the caller's
 * scope before counting, ranking and facets; both leave snippets to the application, which
 * decrypts page text at query time (TextProvider).
 *
 * The search tests run the same assertions on both (test/integration/search/engine.spec.ts).
 */
import type { IndexDocument, SearchRequest, SearchResult, SearchScope } from './types';

export type SearchBackendKind = 'embedded' | 'opensearch';

export interface RebuildStats {
  items: number;
  pages: number;
  segments: number;
  bytes: number;
  rawBytes: number;
}

export interface CompactStats {
  /** segments merged, items in the merged segment, its id */
  merged: number;
  items: number;
  into: number | null;
  /** segments deleted (merged away, or left over) */
  deleted: number;
}

export interface RebuildOptions {
  /** embedded: pages per segment; OpenSearch: documents per bulk request */
  segmentPages?: number;
  onProgress?: (s: RebuildStats) => void;
}

export interface SearchBackend {
  readonly kind: SearchBackendKind;
  /** Loads the index (embedded) or makes sure it exists (OpenSearch); idempotent. */
  open(): Promise<void>;
  /** Sees writes made by other processes before the next answer (embedded follows its log). */
  refresh(): Promise<void>;
  /** Indexes items as they are now; searchable (by this and every process) when it resolves. */
  indexDocuments(docs: IndexDocument[]): Promise<void>;
  /** Takes items out of every result, count and facet when it resolves. */
  remove(itemIds: string[]): Promise<void>;
  /** A query within the caller's scope: hits, total, facets, snippets from the TextProvider. */
  search(req: SearchRequest, scope?: SearchScope): Promise<SearchResult>;
  /** Items the scope may see (all current items when unscoped). */
  count(scope?: SearchScope): Promise<number>;
  /** Replaces the whole index with the source's documents. */
  rebuild(source: AsyncIterable<IndexDocument>, opts?: RebuildOptions): Promise<RebuildStats>;
  /** Background housekeeping after many small writes (embedded: merges segments; OpenSearch merges itself). */
  compact(source: (itemIds: string[]) => AsyncIterable<IndexDocument>): Promise<CompactStats>;
  /** The indexed version of an item (fsck compares its 档号), or null when it is not indexed. */
  indexed(itemId: string): Promise<{ archivalCode: string | null } | null>;
  /** Every item id the index holds as current (fsck looks for ones that are no item). */
  ids(): AsyncIterable<string>;
}
