/**
 * What `archive search` and `archive reindex` do once they need the archive: loaded by
 * commands/search.ts only when the command runs here (the search may instead be answered by an
 * API process over the control socket, see cli/control-socket.ts), so that deciding which costs
 * no service code. cliSearchLines is the one search both ways run.
 */
import { markSnippet, mergeSegments, reindexAll, searchEngine, searchItems, searchScopeOf, snapshotSearchIndex } from '../../services/search';
import { maskIdNumber, maskIdNumbersInText } from '../../domain/id-number';
import { cliPrincipal, describeCliForAudit, forPrincipal } from '../identity';
import { rebuildDossierLinks } from '../../services/records';
import type { Principal } from '../../services/access';
import type { Runtime } from '../../runtime';
import { withRuntime } from '../runtime';
import type { CommandContext, CommandIO } from '../command';
import type { CliSearchOptions } from '../control-socket';

/** Log entries past the snapshot above which `archive search` refreshes the snapshot after answering. */
const CLI_SNAPSHOT_TAIL = 20;

/**
 * One `archive search` as the account `me`: its scope and clearance limit the hits, ID numbers
 * are masked unless it holds personal.full, the audit entry of the running command (cliInvocation)
 * gets the masked query and the total, and the answer comes back as the lines to print (text or
 * --json). Run by the command in its own process and by an API process for the control socket.
 */
export async function cliSearchLines(rt: Runtime, me: Principal, o: CliSearchOptions): Promise<string[]> {
  const { q, limit, sort, personId } = o;
  const res = forPrincipal(me, await searchItems(rt, { q, limit, sort, facets: false, ...(personId ? { filters: { personId } } : {}) }, searchScopeOf(me, rt.config.clearanceLevels)));
  describeCliForAudit({ type: 'search', id: '-' }, { q: maskIdNumbersInText(q), ...(personId ? { personId: maskIdNumber(personId) } : {}), total: res.total });
  const lines: string[] = [];
  if (o.json) {
    lines.push(JSON.stringify({ total: res.total, hits: res.hits.map((h) => ({ id: h.id, score: h.score, pages: h.pages, snippet: h.snippets[0] ? markSnippet(h.snippets[0]) : '' })) }));
  } else {
    lines.push(`共 ${res.total} 件 / ${res.total} items (${res.tookMs} ms)`);
    for (const h of res.hits) {
      lines.push(`${h.score.toFixed(2).padStart(8)}  ${h.archivalCode ?? h.id}  ${h.title ?? ''}  ${whereFound(h.pages)}${h.exact ? '' : ' (≈)'}`);
      for (const s of h.snippets.slice(0, 1)) lines.push(`          ${markSnippet(s)}`);
    }
  }
  return lines;
}

/** Where a hit was found: page 0 is the item's description (著录), the others its pages. */
export function whereFound(pages: readonly number[]): string {
  const inPages = pages.filter((p) => p > 0);
  const parts = [...(pages.includes(0) ? ['著录 description'] : []), ...(inPages.length ? [`第 ${inPages.join(',')} 页 ${inPages.length > 1 ? 'pages' : 'page'}`] : [])];
  return parts.join('；');
}

/** `archive search` in this process: open the archive, load the index, search. */
export function searchHere(o: CliSearchOptions, io: CommandIO): Promise<void> {
  return withRuntime(async (rt) => {
    // The CLI account's scope and clearance limit hits as they do for the API.
    for (const line of await cliSearchLines(rt, cliPrincipal(rt)!, o)) io.out(line);
    // After answering: when this process had to load the index the slow way (no snapshot, or a
    // long log tail after it), it leaves a snapshot so that the next `archive search` starts fast.
    // Without an API process running (which keeps the snapshot current) this is what does it.
    if (rt.config.search.backend === 'embedded') {
      const stats = (await searchEngine(rt)).loadStats;
      if (stats && (stats.source === 'database' || stats.tail >= CLI_SNAPSHOT_TAIL)) await snapshotSearchIndex(rt);
    }
  });
}

export function reindex({ values, io }: CommandContext<Record<string, unknown>>): Promise<void> {
  return withRuntime(async (rt) => {
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
  });
}
