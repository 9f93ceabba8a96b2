/**
 * `archive search` and `archive reindex`: the full-text index from the command line.
 *
 * `archive search` first asks a running API process over its control socket (cli/control-socket.ts),
 * which has the index in memory and runs the same search as this account; with no API to ask it
 * opens the archive and searches here (commands/search-run.ts). This module loads no service code,
 * so asking costs only node's start and the configuration.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- search-run (services, the index) is loaded only when needed */
import { loadConfig } from '../../config';
import { validateIdNumber } from '../../domain/id-number';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../errors';
import { requestedCliUser } from '../acting-as';
import type { Command } from '../command';
import { askApiToSearch, type CliSearchOptions, type ControlError } from '../control-socket';
import { cliInvocation } from '../invocation';

type SearchRun = typeof import('./search-run');
const searchRun = (): SearchRun => require('./search-run') as SearchRun;

/** The command line's options as the search runs them; a bad one is refused before anything is loaded. */
export function parseSearchOptions(values: Record<string, unknown>, positionals: string[]): CliSearchOptions {
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
  return { q, limit, sort, ...(personId ? { personId } : {}), json: values.json === true };
}

/** An API process's refusal, raised here as the in-process search would have raised it. */
export function controlError(e: ControlError): AppError {
  const code = (e.code in ERROR_CATALOGUE ? e.code : 'internal_error') as ErrorCode;
  return new AppError(code, { message: e.message, ...(e.zh ? { zh: e.zh } : {}), ...(e.details ? { details: e.details } : {}) });
}

export const searchCommand: Command = {
  name: 'search',
  // The same permission as GET /api/v1/search: the 三员 and auditors never search content.
  permission: 'search',
  summary: '全文检索 / Search archive items by OCR text and description',
  usage: 'QUERY [--limit N] [--person ID] [--json]',
  description: 'QUERY: words ("养老保险 待遇"), "quoted phrases" for exact wording, -word to exclude, ID numbers and 档号 as written. A running API process (archive serve) answers through its control socket; otherwise the index is loaded here.',
  options: {
    limit: { type: 'string', description: 'number of hits', valueName: 'N', default: '10' },
    sort: { type: 'string', description: 'relevance or date', valueName: 'ORDER', default: 'relevance' },
    person: { type: 'string', description: '只查此公民身份号码的条目（盲索引）/ only items of this 公民身份号码 (blind index)', valueName: 'ID' },
  },
  run: async ({ values, positionals, io }) => {
    const o = parseSearchOptions(values, positionals);
    const answer = await askApiToSearch(loadConfig(), requestedCliUser(cliInvocation.getStore()), o);
    if (answer?.status === 'ok') {
      for (const line of answer.lines) io.out(line);
      return;
    }
    if (answer?.status === 'error') throw controlError(answer.error);
    await searchRun().searchHere(o, io);
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
  run: (ctx) => searchRun().reindex(ctx),
};
