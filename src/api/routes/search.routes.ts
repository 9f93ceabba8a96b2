/**
 * GET /api/v1/search: full-text search over OCR text and item descriptions. The route parses,
 * resolves the caller's scope and calls the engine; the engine applies the scope to hits and
 * facet counts alike.
 */
import type { Context } from 'koa';
import { z } from 'zod';
import { maskIdNumber, maskIdNumbersInText } from '../../domain/id-number';
import type { Runtime } from '../../runtime';
import { FACET_FIELDS, searchItems, type SearchScope } from '../../services/search';
import { describeForAudit } from '../middleware/auth';
import { defineRoute, type RouteDef } from '../route';

/** The caller's fonds and highest readable level, set by the auth middleware for every signed-in request. */
const scopeOf = (ctx: Context): SearchScope => (ctx.state as { searchScope?: SearchScope }).searchScope ?? {};

const list = z
  .string()
  .max(500)
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .optional();

export const SearchQuerySchema = z.object({
  q: z.string().max(500).default('').describe('free text; "quoted phrase"; -word excludes'),
  documentType: list,
  category: list,
  insurance: list.describe('险种, e.g. 养老保险'),
  retention: list.describe('保管期限 code: Y, D100, D50, D30, D10'),
  fonds: list,
  yearFrom: z.coerce.number().int().min(1900).max(2100).optional(),
  yearTo: z.coerce.number().int().min(1900).max(2100).optional(),
  personId: z.string().regex(/^\d{17}[\dXx]$/, 'an 18-character 公民身份号码').optional(),
  sort: z.enum(['relevance', 'date']).default('relevance'),
  offset: z.coerce.number().int().min(0).max(10_000).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  facets: z.enum(['0', '1']).default('1'),
});

const SnippetView = z.object({ page: z.number(), text: z.string(), highlights: z.array(z.tuple([z.number(), z.number()])) });
const HitView = z.object({
  id: z.string(),
  title: z.string().nullable(),
  archivalCode: z.string().nullable(),
  documentType: z.string().nullable(),
  documentDate: z.string().nullable(),
  fonds: z.string(),
  score: z.number(),
  pages: z.array(z.number()).describe('pages with hits, best first; 0 = the item description'),
  exact: z.boolean().describe('false when some words matched only with OCR-error tolerance'),
  snippets: z.array(SnippetView),
});
const FacetView = z.array(z.object({ value: z.string(), count: z.number() }));
export const SearchResultView = z.object({
  total: z.number(),
  hits: z.array(HitView),
  facets: z.object(Object.fromEntries(FACET_FIELDS.map((f) => [f, FacetView])) as Record<(typeof FACET_FIELDS)[number], typeof FacetView>),
  tookMs: z.number(),
});

export function searchRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/search',
      permission: 'search',
      summary: 'Search archive items by OCR text and description, with filters, facets and snippets',
      tags: ['search'],
      query: SearchQuerySchema,
      responses: {
        200: { description: 'ranked items with highlighted snippets and facet counts', schema: SearchResultView },
        503: { description: 'search_index_loading: the process is still loading the full-text index after a start; retry shortly' },
      },
      handler: async (ctx, { query }) => {
        const { q, sort, offset, limit, facets, ...f } = query;
        const res = await searchItems(rt, { q, sort, offset, limit, facets: facets === '1', filters: f }, scopeOf(ctx), { whileLoading: 'refuse' });
        // 利用登记: what was looked for and how much was found; ID numbers in the query are kept masked.
        describeForAudit(ctx, { type: 'search', id: '-' }, { q: maskIdNumbersInText(q), filters: f.personId ? { ...f, personId: maskIdNumber(f.personId) } : f, total: res.total });
        ctx.body = res;
      },
    }),
  ] as RouteDef[];
}
