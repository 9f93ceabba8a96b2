/** Public shapes of the search engine: what is indexed, what a query asks, what it returns. */
import { INSURANCE_TYPES } from '../../domain/labels';

/** An item as the index sees it. Page 0 is reserved for the item's description (metadataText). */
export interface IndexDocument {
  id: string;
  fonds: string;
  title: string | null;
  archivalCode: string | null;
  documentType: string | null;
  category: string | null;
  /** The category's name (工伤保险待遇类), for the description's text only: filters use the code. */
  categoryName?: string | null;
  insurance: string[];
  retention: string | null;
  year: number | null;
  documentDate: string | null;
  /** 0 = open; higher = more restricted. Compared against SearchScope.maxAccessLevel. */
  accessLevel: number;
  persons: Array<{ name: string | null; idNumber: string | null }>;
  units: Array<{ name: string | null; creditCode: string | null }>;
  pages: Array<{ n: number; text: string }>;
}

/**
 * Decrypted page text at query time, for snippets; page 0 is the item's description
 * (metadataText of the item). Throwing (item destroyed, key shredded) just drops the snippet.
 */
export type TextProvider = (itemId: string, page: number) => Promise<string>;

/**
 * The same for several pages of one item at once (a hit's snippet pages): one item read, the
 * pages' blobs fetched in parallel. A page missing from the answer shows no snippet. Optional: a
 * backend falls back to TextProvider page by page.
 */
export type PagesTextProvider = (itemId: string, pages: number[]) => Promise<Map<number, string>>;

/**
 * What the caller may see. Applied before ranking, counting and facets, so neither totals nor
 * facet counts leak the existence of items outside it. Undefined fields do not restrict.
 */
export interface SearchScope {
  fonds?: string[];
  maxAccessLevel?: number;
}

export interface SearchFilters {
  documentType?: string[];
  category?: string[];
  insurance?: string[];
  retention?: string[];
  fonds?: string[];
  yearFrom?: number;
  yearTo?: number;
  /** 公民身份号码, looked up through the blind index */
  personId?: string;
}

export interface SearchRequest {
  q: string;
  filters?: SearchFilters;
  sort?: 'relevance' | 'date';
  offset?: number;
  limit?: number;
  facets?: boolean;
  snippets?: boolean;
}

export interface Snippet {
  page: number;
  text: string;
  /** [start, end) code-point offsets into text */
  highlights: Array<[number, number]>;
}

export interface SearchHit {
  id: string;
  title: string | null;
  archivalCode: string | null;
  documentType: string | null;
  documentDate: string | null;
  fonds: string;
  score: number;
  /** pages with hits, best first; 0 = the item's description */
  pages: number[];
  exact: boolean;
  snippets: Snippet[];
}

export const FACET_FIELDS = ['documentType', 'category', 'insurance', 'year', 'retention', 'fonds'] as const;
export type FacetField = (typeof FACET_FIELDS)[number];

export interface SearchResult {
  total: number;
  hits: SearchHit[];
  facets: Record<FacetField, Array<{ value: string; count: number }>>;
  tookMs: number;
}

/** The text indexed as page 0: what a person would search an item's description for. */
export function metadataText(d: Pick<IndexDocument, 'title' | 'documentType' | 'category' | 'categoryName' | 'insurance' | 'persons' | 'units' | 'documentDate' | 'archivalCode' | 'fonds' | 'year'>): string {
  const lines = [
    d.title,
    d.documentType,
    // Words a person reads and types (稽核类, 养老保险), not the codes the facets use (9, YL).
    d.categoryName ?? d.category,
    d.insurance.map((c) => INSURANCE_TYPES[c as keyof typeof INSURANCE_TYPES] ?? c).join(' '),
    ...d.persons.map((p) => [p.name, p.idNumber].filter(Boolean).join(' ')),
    ...d.units.map((u) => [u.name, u.creditCode].filter(Boolean).join(' ')),
    d.documentDate,
    d.archivalCode,
    d.fonds,
    d.year === null ? null : `${d.year}年`,
  ];
  return lines.filter((l): l is string => !!l && l.length > 0).join('\n');
}
