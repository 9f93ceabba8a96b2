/** `archive search` and `archive reindex`: the full-text index from the command line. */
import { validateIdNumber } from '../../domain/id-number';
import { AppError } from '../../errors';
import { markSnippet, mergeSegments, reindexAll, searchEngine, searchItems, searchScopeOf, snapshotSearchIndex } from '../../services/search';
import { maskIdNumber, maskIdNumbersInText } from '../../domain/id-number';
import { cliPrincipal, describeCliForAudit, forPrincipal } from '../identity';
import { rebuildDossierLinks } from '../../services/records';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

/** Log entries past the snapshot above which `archive search` refreshes the snapshot after answering. */
const CLI_SNAPSHOT_TAIL = 20;

export const searchCommand: Command = {
  name: 'search',
  // The same permission as GET /api/v1/search: the 三员 and auditors never search content.
  permission: 'search',
  summary: '全文检索 / Search archive items by OCR text and description',
  usage: 'QUERY [--limit N] [--person ID] [--json]',
  description: 'QUERY: words ("养老保险 待遇"), "quoted phrases" for exact wording, -word to exclude, ID numbers and 档号 as written.',
  options: {
    limit: { type: 'string', description: 'number of hits', valueName: 'N', default: '10' },
    sort: { type: 'string', description: 'relevance or date', valueName: 'ORDER', default: 'relevance' },
    person: { type: 'string', description: '只查此公民身份号码的条目（盲索引）/ only items of this 公民身份号码 (blind index)', valueName: 'ID' },
  },
  run: async ({ values, positionals, io }) => {
    const q = positionals.join(' ').trim();
    let personId: string | undefined;
    if (typeof values.person === 'string') {
      const v = validateIdNumber(values.person.toUpperCase());
      if (!v.valid) throw new AppError('validation_failed', { message: `--person: not a valid 公民身份号码: ${v.message}`, zh: '--person：公民身份号码无效', details: { problem: v.problem } });
      personId = v.value;
    }
    if (!q && !personId) throw new AppError('validation_failed', { message: 'Give a query, e.g. archive search "养老保险 张三"', zh: '请提供检索词，例如 archive search "养老保险 张三"' });
    const limit = Number(values.limit ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new AppError('validation_failed', { message: '--limit must be an integer from 1 to 1000', zh: '--limit 应为 1 到 1000 的整数' });
    const sort = values.sort === 'date' ? 'date' : 'relevance';
    return withRuntime(async (rt) => {
      // The CLI account's scope and clearance limit hits as they do for the API.
      const me = cliPrincipal(rt)!;
      const res = forPrincipal(me, await searchItems(rt, { q, limit, sort, facets: false, ...(personId ? { filters: { personId } } : {}) }, searchScopeOf(me, rt.config.clearanceLevels)));
      describeCliForAudit({ type: 'search', id: '-' }, { q: maskIdNumbersInText(q), ...(personId ? { personId: maskIdNumber(personId) } : {}), total: res.total });
      if (values.json) {
        io.out(JSON.stringify({ total: res.total, hits: res.hits.map((h) => ({ id: h.id, score: h.score, pages: h.pages, snippet: h.snippets[0] ? markSnippet(h.snippets[0]) : '' })) }));
      } else {
        io.out(`共 ${res.total} 件 / ${res.total} items (${res.tookMs} ms)`);
        for (const h of res.hits) {
          io.out(`${h.score.toFixed(2).padStart(8)}  ${h.archivalCode ?? h.id}  ${h.title ?? ''}  第 ${h.pages.join(',')} 页${h.exact ? '' : ' (≈)'}`);
          for (const s of h.snippets.slice(0, 1)) io.out(`          ${markSnippet(s)}`);
        }
      }
      // After answering: when this process had to load the index the slow way (no snapshot, or a
      // long log tail after it), it leaves a snapshot so that the next `archive search` starts fast.
      // Without an API process running (which keeps the snapshot current) this is what does it.
      if (rt.config.search.backend === 'embedded') {
        const stats = (await searchEngine(rt)).loadStats;
        if (stats && (stats.source === 'database' || stats.tail >= CLI_SNAPSHOT_TAIL)) await snapshotSearchIndex(rt);
      }
    });
  },
};

export const reindexCommand: Command = {
  name: 'reindex',
  permission: 'search.reindex',
  summary: '重建全文索引 / Rebuild the full-text search index from the archive',
  usage: '[--merge] [--json]',
  description: 'Without options: rebuild the search index and the person/unit file links (一人一档) from the stored items. --merge: only merge small search segments (workers do this by themselves).',
  options: {
    merge: { type: 'boolean', description: '只合并小索引段 / only merge small segments' },
  },
  run: async ({ values, io }) =>
    withRuntime(async (rt) => {
      const t0 = Date.now();
      if (values.merge) {
        const s = await mergeSegments(rt);
        if (values.json) io.out(JSON.stringify({ ...s, seconds: (Date.now() - t0) / 1000 }));
        else io.out(s.merged ? `已合并 ${s.merged} 个索引段（${s.items} 件）/ merged ${s.merged} segments (${s.items} items); deleted ${s.deleted}` : `无需合并 / nothing to merge; deleted ${s.deleted} unused segments`);
        return;
      }
      const stats = await reindexAll(rt, {
        onProgress: (s) => {
          if (!values.json && io.isTTY) process.stderr.write(`\r${s.items} items, ${s.pages} pages…`);
        },
      });
      const dossiers = await rebuildDossierLinks(rt, {
        onProgress: (n) => {
          if (!values.json && io.isTTY) process.stderr.write(`\r一人一档 / file links: ${n} items…`);
        },
      });
      const seconds = (Date.now() - t0) / 1000;
      if (values.json) io.out(JSON.stringify({ ...stats, dossierLinks: dossiers.links, seconds }));
      else {
        io.out(`${io.isTTY ? '\n' : ''}已重建索引 / reindexed: ${stats.items} items, ${stats.pages} pages, ${stats.segments} segments, ${(stats.bytes / 1e6).toFixed(1)} MB`);
        io.out(`已重建一人一档链接 / person and unit file links: ${dossiers.links} links of ${dossiers.items} items; ${seconds.toFixed(1)} s in all`);
      }
    }),
};
