/**
 * `archive appraisal …`, `archive disposal …`, `archive hold …`: the records-management path from
 * the command line (services/disposition), each step a subcommand acting `--as` an account, with
 * `--help` and `--json`. A compliance officer can go from the due list to the certificate:
 *
 *   archive appraisal due --as co
 *   archive appraisal open --as co --title … --member m1:archivist --member m2:business_staff --due
 *   archive appraisal opinion ROUND --as m1 --all --opinion destroy --reason …   (each member)
 *   archive appraisal close ROUND --as co
 *   archive disposal create --as co --round ROUND
 *   archive disposal sign LIST --as m1 --totp 123456                             (two members)
 *   archive disposal file LIST --as co --date … --reference … --receipt scan.pdf
 *   archive disposal approve LIST --as head --totp 123456
 *   archive disposal start LIST --as s1 --supervisor s1=123456 --supervisor s2=654321   (after cooling-off)
 *   archive disposal execute LIST --as s1
 *   archive disposal confirm LIST --as s1 --totp …  /  --as s2 --totp …
 *   archive disposal certificate LIST --out cert.pdf ; archive disposal verify-certificate cert.pdf
 */
import fs from 'node:fs';
import { AppError } from '../../errors';
import {
  cancelList,
  certificateFiles,
  closeRound,
  confirmExecution,
  createList,
  dueGroups,
  dueList,
  editList,
  fileList,
  getHold,
  getList,
  getRound,
  giveOpinions,
  HOLD_KIND_ZH,
  HOLD_KINDS,
  listHolds,
  listLists,
  listPdf,
  listRounds,
  MEMBER_CAPACITIES,
  openRound,
  OPINIONS,
  placeHold,
  reapplyDestructions,
  releaseHold,
  roundItemIds,
  runExecution,
  queueExecution,
  DISPOSAL_EXECUTE_JOB,
  INLINE_MAX_ITEMS,
  signList,
  startExecution,
  verifyCertificate,
  agencyKey,
  type DueGroupBy,
  type HoldInput,
  type HoldKind,
  type ListView,
  type RunReport,
  type MemberCapacity,
  type OpinionKind,
  type RoundView,
  type HoldView,
} from '../../services/disposition';
import { cliPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import type { Command, OptionSpec } from '../command';

const STAGE_ZH: Record<string, string> = {
  awaiting_signoffs: '待鉴定小组签署',
  awaiting_filing: '待备案',
  awaiting_approval: '待主要负责人批准',
  approved: '已批准（冷静期后可销毁）',
  executing: '销毁中',
  done: '已销毁并出具证明',
  cancelled: '已驳回/撤销',
};

function need(v: string | undefined, what: string, zh: string): string {
  if (!v) throw new AppError('validation_failed', { message: `Give the ${what}`, zh: `请提供${zh}` });
  return v;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function list(v: unknown): string[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
}

function int(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new AppError('validation_failed', { message: `--${name} must be a whole number`, zh: `--${name} 须为整数` });
  return n;
}

const FILTERS: Record<string, OptionSpec> = {
  'as-of': { type: 'string', description: '到期基准日 / what is due on this date (YYYY-MM-DD, default today)', valueName: 'DATE' },
  fonds: { type: 'string', description: '全宗号 / fonds', valueName: 'F' },
  category: { type: 'string', description: '类别 / appendix category (1-9)', valueName: 'C' },
  year: { type: 'string', description: '年度 / year of formation', valueName: 'YYYY' },
  dossier: { type: 'string', description: '案卷（档号分类）/ the 档号 class', valueName: 'CLASS' },
};

const { 'as-of': _asOf, ...QUERY_FILTERS } = FILTERS;

function filters(values: Record<string, unknown>) {
  return { asOf: str(values['as-of']), fonds: str(values.fonds), category: str(values.category), year: str(values.year), dossier: str(values.dossier) };
}

function roundLine(r: RoundView): string {
  const o = r.outcomes ? `  销毁 ${r.outcomes.destroy} / 延长 ${r.outcomes.extend} / 永久 ${r.outcomes.keep} / 未决 ${r.outcomes.none}` : '';
  return `${r.id}  ${r.status === 'open' ? '进行中/open' : '已结束/closed'}  ${r.title}  ${r.itemCount} 件 items  意见 opinions ${r.opinionsGiven}  小组 ${r.members.map((m) => `${m.username}(${m.capacity})`).join(', ')}${o}`;
}

function listText(v: ListView): string {
  const lines = [
    `销毁清册 ${v.id}  第 ${v.version} 版 version  ${STAGE_ZH[v.stage] ?? v.stage} / ${v.stage}`,
    `  ${v.title}  编制人 proposer ${v.proposer}  鉴定 round ${v.roundId}  ${v.rows.length} 件 items  SHA-256 ${v.sha256}`,
    ...v.signatures.map((s) => `  签署 ${s.step === 'head' ? '主要负责人批准/approval' : '鉴定小组/sign-off'}: ${s.username} ${s.at} (v${s.version})${s.void ? '  已作废 VOID' : ''}`),
  ];
  if (v.filing) lines.push(`  备案 filing: ${v.filing.date} ${v.filing.reference}${v.filing.receipt ? ' (回执 receipt)' : ''} v${v.filing.version}${v.filing.void ? '  已作废 VOID' : ''}`);
  if (v.executableFrom) lines.push(`  可执行销毁 executable from: ${v.executableFrom}`);
  if (v.cancelled) lines.push(`  驳回 rejected by ${v.cancelled.by}: ${v.cancelled.reason}`);
  if (v.execution) lines.push(`  监销 ${v.execution.supervisors.join(', ')}  已销毁 destroyed ${v.execution.destroyed}  未销毁 skipped ${v.execution.skipped}  待处理 pending ${v.execution.pending}  确认 confirmed ${v.execution.confirmedBy.join(', ') || '—'}`);
  for (const r of v.rows.slice(0, 50)) lines.push(`  ${String(r.seq).padStart(4)}  ${r.archivalCode ?? r.itemId}  ${r.title ?? ''}  ${r.formedOn ?? ''}  ${r.retention ?? ''}  已保管 ${r.yearsKept ?? '?'} 年  ${r.reason}`);
  if (v.rows.length > 50) lines.push(`  … ${v.rows.length - 50} more (--json for all)`);
  return lines.join('\n');
}

function holdLine(h: HoldView): string {
  const t = h.target.type === 'items' ? `${h.target.itemIds?.length ?? 0} 件 items` : h.target.type === 'query' ? `条件 query ${JSON.stringify(h.target.query)}` : `${h.target.type === 'person' ? '个人 person' : '单位 unit'} ${h.target.label ?? ''}`;
  const covers = h.covers === undefined ? '' : `  现冻结 ${h.covers} 件 / covers ${h.covers} item(s) now`;
  return `${h.id}  ${h.active ? '冻结中/active' : '已解除/released'}  ${HOLD_KIND_ZH[h.kind]}/${h.kind}  ${h.name}  ${t}${covers}  负责人 owner ${h.owner}  ${h.placedBy} ${h.placedAt}${h.releasedBy ? `  解除 ${h.releasedBy}: ${h.releaseReason}` : ''}  理由 ${h.reason}`;
}

const json = (v: unknown) => JSON.stringify(v);

export const appraisalCommand: Command = {
  name: 'appraisal',
  summary: '鉴定 / Appraisal: the due list, rounds with the 鉴定小组, opinions, the report',
  usage: '<due|open|opinion|close|show|list|report>',
  subcommands: [
    {
      name: 'due',
      summary: 'Items due for appraisal (never permanent, provisional, held or already in a round)',
      usage: '[--as-of YYYY-MM-DD] [--fonds F] [--category C] [--year YYYY] [--dossier CLASS] [--by fonds|category|year|dossier] [--limit N] [--after CURSOR]',
      permission: 'disposition.read',
      options: { ...FILTERS, by: { type: 'string', description: 'counts by fonds, category, year or dossier instead of items', valueName: 'FIELD' }, limit: { type: 'string', description: 'items per page (default 100, at most 1000)', valueName: 'N' }, after: { type: 'string', description: 'the previous page\'s next cursor', valueName: 'CURSOR' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const who = cliPrincipal(rt) ?? null;
          if (values.by !== undefined) {
            const by = String(values.by);
            if (!['fonds', 'category', 'year', 'dossier'].includes(by)) throw new AppError('validation_failed', { message: '--by: fonds, category, year or dossier', zh: '--by 取值为 fonds、category、year 或 dossier' });
            const g = await dueGroups(rt, who, by as DueGroupBy, filters(values));
            if (values.json) io.out(json(g));
            else {
              io.out(`截至 ${g.asOf} 到期待鉴定 / due as of ${g.asOf}: ${g.total} 件 items, by ${by}`);
              for (const x of g.groups) io.out(`  ${String(x.key ?? '(无/none)').padEnd(28)} ${x.count}`);
            }
            return;
          }
          const page = await dueList(rt, who, { ...filters(values), limit: int(values.limit, 'limit'), after: str(values.after) });
          if (values.json) io.out(json(page));
          else {
            io.out(`截至 ${page.asOf} 到期待鉴定 / due for appraisal as of ${page.asOf}: ${page.items.length} 件 items${page.next ? ' (more: --after ' + page.next + ')' : ''}`);
            for (const i of page.items) io.out(`  ${i.id}  ${i.archivalCode ?? ''}  ${i.title ?? ''}  形成 ${i.formedOn ?? '?'}  ${i.retention ?? ''}  到期 due ${i.dueOn}`);
          }
        }),
    },
    {
      name: 'open',
      summary: 'Open an appraisal round over due items (--due with filters, or --items), with the 鉴定小组',
      usage: '--title TEXT --member USER:CAPACITY --member … (--due [filters] | --items ID,ID)',
      permission: 'destruction.propose',
      description: `Capacities (3号令 第十条): ${MEMBER_CAPACITIES.join(', ')}.`,
      options: { ...FILTERS, title: { type: 'string', description: '鉴定名称 / title', valueName: 'TEXT' }, member: { type: 'string', multiple: true, description: '鉴定小组成员 USER:CAPACITY (at least two)', valueName: 'USER:CAP' }, items: { type: 'string', description: 'explicit item ids, comma-separated', valueName: 'IDS' }, due: { type: 'boolean', description: 'take the due list (with the filters)' }, limit: { type: 'string', description: 'at most N items from the due list', valueName: 'N' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const members = list(values.member).map((m) => {
            const [username, capacity] = m.split(':');
            if (!username || !capacity) throw new AppError('validation_failed', { message: '--member USER:CAPACITY', zh: '--member 格式为 用户名:身份' });
            return { username, capacity: capacity as MemberCapacity };
          });
          const itemIds = list(values.items);
          const r = await openRound(rt, cliPrincipal(rt)!, { title: String(values.title ?? ''), members, ...(itemIds.length ? { itemIds } : values.due ? { due: { ...filters(values), limit: int(values.limit, 'limit') } } : {}), asOf: str(values['as-of']) });
          io.out(values.json ? json(r) : `已开始鉴定 / round opened: ${roundLine(r)}`);
        }),
    },
    {
      name: 'opinion',
      summary: '鉴定意见: a member\'s opinion on items of a round (destroy / extend / keep)',
      usage: 'ROUND (--item ID,ID | --all) --opinion destroy|extend|keep [--period D30|D50|D100] [--years N] --reason TEXT',
      permission: 'appraisal.review',
      options: { item: { type: 'string', multiple: true, description: 'item ids (comma-separated or repeated)', valueName: 'ID' }, all: { type: 'boolean', description: 'every item of the round' }, opinion: { type: 'string', description: OPINIONS.join(' | '), valueName: 'OPINION' }, period: { type: 'string', description: 'extend: the new period (longer than now)', valueName: 'CODE' }, years: { type: 'string', description: 'extend: years until the next appraisal', valueName: 'N' }, reason: { type: 'string', description: '理由 / reason', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const roundId = need(positionals[0], 'round id', '鉴定编号');
          const opinion = String(values.opinion ?? '') as OpinionKind;
          if (!(OPINIONS as readonly string[]).includes(opinion)) throw new AppError('validation_failed', { message: `--opinion: ${OPINIONS.join(', ')}`, zh: '--opinion 取值为 destroy、extend 或 keep' });
          let ids = list(values.item);
          if (values.all) {
            ids = await roundItemIds(rt, roundId);
          }
          if (!ids.length) throw new AppError('validation_failed', { message: 'Give --item or --all', zh: '请用 --item 或 --all 指定条目' });
          const res = await giveOpinions(rt, cliPrincipal(rt)!, roundId, ids.map((itemId) => ({ itemId, opinion, period: (str(values.period) as 'D30' | undefined) ?? null, years: int(values.years, 'years') ?? null, reason: String(values.reason ?? '') })));
          io.out(values.json ? json(res) : `已记录意见 / recorded ${res.recorded} opinion(s)`);
        }),
    },
    {
      name: 'close',
      summary: 'Close a round: decide each item, apply extend/keep, write the 鉴定工作报告',
      usage: 'ROUND',
      permission: 'destruction.propose',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const r = await closeRound(rt, cliPrincipal(rt)!, need(positionals[0], 'round id', '鉴定编号'));
          io.out(values.json ? json(r) : `鉴定已结束 / round closed: ${roundLine(r)}`);
        }),
    },
    {
      name: 'show',
      summary: 'One round',
      usage: 'ROUND',
      permission: 'disposition.read',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const r = await getRound(rt, need(positionals[0], 'round id', '鉴定编号'));
          io.out(values.json ? json(r) : roundLine(r));
        }),
    },
    {
      name: 'list',
      summary: 'Rounds, newest first',
      usage: '[--status open|closed]',
      permission: 'disposition.read',
      options: { status: { type: 'string', description: 'open or closed', valueName: 'S' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const rounds = await listRounds(rt, { status: str(values.status) as 'open' | undefined });
          if (values.json) io.out(json({ rounds }));
          else if (!rounds.length) io.out('没有鉴定 / no rounds');
          else for (const r of rounds) io.out(roundLine(r));
        }),
    },
    {
      name: 'report',
      summary: 'Write the round\'s 鉴定工作报告 (PDF) to a file',
      usage: 'ROUND --out FILE',
      permission: 'disposition.read',
      options: { out: { type: 'string', description: 'file to write', valueName: 'FILE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const r = await getRound(rt, need(positionals[0], 'round id', '鉴定编号'));
          if (!r.reportKey) throw new AppError('conflict', { message: 'The round is still open', zh: '鉴定尚未结束' });
          const out = need(str(values.out), '--out file', '输出文件（--out）');
          fs.writeFileSync(out, await rt.storage.blobs.getBuffer(r.reportKey));
          io.out(values.json ? json({ file: out }) : `已写出 / wrote ${out}`);
        }),
    },
  ],
};

export const disposalCommand: Command = {
  name: 'disposal',
  summary: '销毁 / Destruction: the 销毁清册, sign-offs, 备案, approval, supervised destruction, certificate',
  usage: '<list|show|create|edit|sign|file|approve|reject|pdf|start|execute|confirm|certificate|verify-certificate|reapply>',
  subcommands: [
    {
      name: 'list',
      summary: 'Destruction lists, newest first',
      usage: '',
      permission: 'disposition.read',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const lists = await listLists(rt);
          if (values.json) io.out(json({ lists }));
          else if (!lists.length) io.out('没有销毁清册 / no destruction lists');
          else for (const l of lists) io.out(`${l.id}  v${l.version}  ${STAGE_ZH[l.stage] ?? l.stage}/${l.stage}  ${l.items} 件  ${l.title}  ${l.proposer}`);
        }),
    },
    {
      name: 'show',
      summary: 'One list: rows, signatures (void ones marked), 备案, stage, execution',
      usage: 'LIST',
      permission: 'disposition.read',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const v = await getList(rt, need(positionals[0], 'list id', '清册编号'));
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'create',
      summary: 'Compile the 销毁清册 from a closed round\'s destroy-agreed items',
      usage: '--round ROUND [--title TEXT]',
      permission: 'destruction.propose',
      options: { round: { type: 'string', description: 'the closed appraisal round', valueName: 'ROUND' }, title: { type: 'string', description: 'title', valueName: 'TEXT' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const v = await createList(rt, cliPrincipal(rt)!, { roundId: need(str(values.round), '--round', '鉴定编号（--round）'), title: str(values.title) });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'edit',
      summary: 'Edit the list (proposer): remove items or change a reason; voids every signature',
      usage: 'LIST [--remove ID,ID] [--reason ID=TEXT] --note TEXT',
      permission: 'destruction.propose',
      options: { remove: { type: 'string', multiple: true, description: 'item ids to take off the list', valueName: 'ID' }, reason: { type: 'string', multiple: true, description: 'new 销毁原因 for an item', valueName: 'ID=TEXT' }, note: { type: 'string', description: 'what changed and why', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const reasons = Object.fromEntries((Array.isArray(values.reason) ? values.reason : values.reason ? [values.reason] : []).map((r) => String(r).split(/=(.*)/s).slice(0, 2)));
          const v = await editList(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), { removeItemIds: list(values.remove), reasons, note: String(values.note ?? '') });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'sign',
      summary: '鉴定小组 sign-off (a member of the round, never the proposer), with a fresh TOTP code',
      usage: 'LIST --totp CODE [--version N] [--note TEXT]',
      permission: 'appraisal.review',
      options: { totp: { type: 'string', description: 'your current authenticator code', valueName: 'CODE' }, version: { type: 'string', description: 'the version you read (refused if it changed)', valueName: 'N' }, note: { type: 'string', description: 'remark', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const v = await signList(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), { step: 'appraisal', totp: str(values.totp), expectVersion: int(values.version, 'version'), note: str(values.note) });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'file',
      summary: '备案 with the same-level 人社行政部门: date, reference, receipt scan',
      usage: 'LIST --date YYYY-MM-DD --reference TEXT [--receipt FILE]',
      permission: 'destruction.propose',
      options: { date: { type: 'string', description: '备案日期', valueName: 'DATE' }, reference: { type: 'string', description: '人社行政部门备案文号', valueName: 'TEXT' }, receipt: { type: 'string', description: 'the receipt scan (stored encrypted)', valueName: 'FILE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const file = str(values.receipt);
          const v = await fileList(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), { date: String(values.date ?? ''), reference: String(values.reference ?? ''), ...(file ? { receipt: fs.readFileSync(file), receiptType: /\.pdf$/i.test(file) ? 'application/pdf' : /\.png$/i.test(file) ? 'image/png' : /\.jpe?g$/i.test(file) ? 'image/jpeg' : 'application/octet-stream' } : {}) });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'approve',
      summary: '主要负责人 approval, with a fresh TOTP code; the cooling-off period starts',
      usage: 'LIST --totp CODE [--version N] [--note TEXT]',
      permission: 'destruction.approve',
      options: { totp: { type: 'string', description: 'your current authenticator code', valueName: 'CODE' }, version: { type: 'string', description: 'the version you read', valueName: 'N' }, note: { type: 'string', description: '批示', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const v = await signList(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), { step: 'head', totp: str(values.totp), expectVersion: int(values.version, 'version'), note: str(values.note) });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'reject',
      summary: 'Reject (member, head) or withdraw (proposer) a list before destruction; items stay',
      usage: 'LIST --reason TEXT',
      permission: 'disposition.read',
      options: { reason: { type: 'string', description: '理由', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const v = await cancelList(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), String(values.reason ?? ''));
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'pdf',
      summary: 'Write the 清册 (current version) as PDF',
      usage: 'LIST --out FILE',
      permission: 'disposition.read',
      options: { out: { type: 'string', description: 'file', valueName: 'FILE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const out = need(str(values.out), '--out file', '输出文件（--out）');
          fs.writeFileSync(out, await listPdf(rt, need(positionals[0], 'list id', '清册编号')));
          io.out(values.json ? json({ file: out }) : `已写出 / wrote ${out}`);
        }),
    },
    {
      name: 'start',
      summary: 'Start destruction (after cooling-off): two 监销人, both authenticate now with their TOTP code',
      usage: 'LIST --supervisor USER=CODE --supervisor USER=CODE [--method TEXT] [--place TEXT]',
      permission: 'destruction.execute',
      options: { supervisor: { type: 'string', multiple: true, description: '监销人 and their current code (you and one more)', valueName: 'USER=CODE' }, method: { type: 'string', description: '销毁方式', valueName: 'TEXT' }, place: { type: 'string', description: '销毁地点', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const supervisors = list(values.supervisor).map((s) => {
            const [username, totp] = s.split('=');
            return { username: username ?? '', totp };
          });
          const v = await startExecution(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), { supervisors, method: str(values.method), place: str(values.place) });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'execute',
      summary: `Destroy the items (resumes after a crash; safe to run twice). Up to ${INLINE_MAX_ITEMS} items left it runs here; a longer list, or --queue, goes to a worker as a job (--wait follows it to the end)`,
      usage: 'LIST [--queue] [--wait]',
      permission: 'destruction.execute',
      options: { queue: { type: 'boolean', description: 'hand the run to a worker (archive worker) whatever the list\'s size' }, wait: { type: 'boolean', description: 'with a queued run: follow its progress until it ends' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const me = cliPrincipal(rt)!;
          const listId = need(positionals[0], 'list id', '清册编号');
          const v = await getList(rt, listId);
          const live = v.execution?.run && (v.execution.run.state === 'queued' || v.execution.run.state === 'running');
          const report = (r: { destroyed: number; skipped: Array<{ itemId: string; reason: string }>; pending: number }) => {
            if (values.json) io.out(json(r));
            else {
              io.out(`已销毁 / destroyed ${r.destroyed}  未销毁 / skipped ${r.skipped.length}  待处理 / pending ${r.pending}`);
              for (const s of r.skipped) io.out(`  未销毁 skipped ${s.itemId}: ${s.reason}`);
            }
          };
          if (!values.queue && !live && !(v.execution && v.execution.pending > INLINE_MAX_ITEMS)) {
            const r = await runExecution(rt, me, listId, { onProgress: (p) => void (io.isTTY && !values.json && io.err(`\r已处理 / processed ${p.done}/${p.total} (${p.stage})   `)) });
            if (io.isTTY && !values.json) io.err('');
            report(r);
            return;
          }
          let run = await queueExecution(rt, me, listId);
          if (!values.wait) {
            io.out(values.json ? json(run) : `已排队 / queued: job ${run.jobId} (${run.state}); progress: archive disposal show ${listId}${(await rt.queue.liveWorkers(DISPOSAL_EXECUTE_JOB)) ? '' : '\n  没有运行中的 worker / no worker is running: start one (archive worker)'}`);
            return;
          }
          for (;;) {
            if (run.state === 'done' || run.state === 'failed' || run.state === 'cancelled') break;
            if (io.isTTY && !values.json) io.err(`\r已处理 / processed ${run.done}/${run.total} (${run.stage ?? run.state})   `);
            await new Promise((res) => setTimeout(res, 1000));
            run = (await getList(rt, listId)).execution!.run!;
          }
          if (io.isTTY && !values.json) io.err('');
          if (run.state !== 'done') throw new AppError('conflict', { message: `The queued run ended ${run.state}: ${run.error ?? ''}`, zh: `排队执行未完成（${run.state}）：${run.error ?? ''}`, details: { jobId: run.jobId } });
          // The job's result is the run's report (runExecution's).
          report((await rt.queue.get(run.jobId))!.result as RunReport);
        }),
    },
    {
      name: 'confirm',
      summary: 'A supervisor confirms the end (fresh TOTP); after both, the signed certificate is issued',
      usage: 'LIST --totp CODE [--note TEXT]',
      permission: 'destruction.execute',
      options: { totp: { type: 'string', description: 'your current authenticator code', valueName: 'CODE' }, note: { type: 'string', description: '备注', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const v = await confirmExecution(rt, cliPrincipal(rt)!, need(positionals[0], 'list id', '清册编号'), { totp: str(values.totp), note: str(values.note) });
          io.out(values.json ? json(v) : listText(v));
        }),
    },
    {
      name: 'certificate',
      summary: 'Write the 销毁证明 (PDF) and its detached signature (FILE.p7s)',
      usage: 'LIST --out FILE',
      permission: 'disposition.read',
      options: { out: { type: 'string', description: 'file (the signature goes to FILE.p7s)', valueName: 'FILE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const out = need(str(values.out), '--out file', '输出文件（--out）');
          const f = await certificateFiles(rt, need(positionals[0], 'list id', '清册编号'));
          fs.writeFileSync(out, f.pdf);
          fs.writeFileSync(`${out}.p7s`, f.p7s);
          io.out(values.json ? json({ file: out, signature: `${out}.p7s` }) : `已写出 / wrote ${out} and ${out}.p7s`);
        }),
    },
    {
      name: 'verify-certificate',
      summary: 'Check a certificate and its signature; says exactly what is wrong',
      usage: 'FILE [--signature FILE.p7s]',
      permission: 'disposition.read',
      options: { signature: { type: 'string', description: 'the detached signature (default FILE.p7s)', valueName: 'FILE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const file = need(positionals[0], 'certificate file', '证明文件');
          const sigFile = str(values.signature) ?? `${file}.p7s`;
          const res = await verifyCertificate(fs.readFileSync(file), fs.existsSync(sigFile) ? fs.readFileSync(sigFile) : null, { agencyCertPem: agencyKey(rt).certPem, rt });
          if (values.json) io.out(json(res));
          else if (res.ok) io.out(`有效 / VALID: 销毁证明 for list ${res.listId}, ${res.items} 件 items, signed ${res.signedAt} by ${res.signer?.subject} (SHA-256 ${res.signer?.fingerprint})`);
          else {
            io.out(`无效 / INVALID: ${file}`);
            for (const p of res.problems) io.out(`  [${p.code}] ${p.messageZh}\n      ${p.message}`);
          }
          return res.ok ? 0 : 1;
        }),
    },
    {
      name: 'reapply',
      summary: 'Re-apply every destruction in the register (run after restoring a backup)',
      usage: '',
      permission: 'system.config',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const r = await reapplyDestructions(rt);
          io.out(values.json ? json(r) : `销毁登记 register entries ${r.entries}, 重新执行 re-applied ${r.reapplied}`);
        }),
    },
  ],
};

export const holdCommand: Command = {
  name: 'hold',
  summary: '冻结 / Legal holds: place, release, list',
  usage: '<list|show|place|release>',
  subcommands: [
    {
      name: 'list',
      summary: 'Holds, newest first',
      usage: '[--active]',
      permission: 'disposition.read',
      options: { active: { type: 'boolean', description: 'only holds in force' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const holds = await listHolds(rt, values.active ? { active: true } : {});
          if (values.json) io.out(json({ holds }));
          else if (!holds.length) io.out('没有冻结 / no holds');
          else for (const h of holds) io.out(holdLine(h));
        }),
    },
    {
      name: 'show',
      summary: 'One hold and the items it covers now',
      usage: 'HOLD',
      permission: 'disposition.read',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const h = await getHold(rt, need(positionals[0], 'hold id', '冻结编号'));
          io.out(values.json ? json(h) : `${holdLine(h)}\n  覆盖 covers ${h.itemIds.length} 件 items: ${h.itemIds.slice(0, 20).join(', ')}${h.itemIds.length > 20 ? ' …' : ''}`);
        }),
    },
    {
      name: 'place',
      summary: 'Place a hold on items, a person\'s or a unit\'s file, or a query',
      usage: '--name TEXT --kind KIND --reason TEXT [--owner NAME] (--items ID,ID | --person ID_NUMBER | --unit CREDIT_CODE | --fonds/--category/--year/--dossier)',
      permission: 'hold.manage',
      description: `Kinds: ${HOLD_KINDS.map((k) => `${k} (${HOLD_KIND_ZH[k]})`).join(', ')}.`,
      // A hold covers what the query names whether due or not: no due date to ask for.
      options: { ...QUERY_FILTERS, name: { type: 'string', description: '名称', valueName: 'TEXT' }, kind: { type: 'string', description: HOLD_KINDS.join(' | '), valueName: 'KIND' }, reason: { type: 'string', description: '理由', valueName: 'TEXT' }, owner: { type: 'string', description: '负责人 (default: you)', valueName: 'NAME' }, items: { type: 'string', description: 'item ids', valueName: 'IDS' }, person: { type: 'string', description: '公民身份号码: the person\'s whole file', valueName: 'ID' }, unit: { type: 'string', description: '统一社会信用代码: the unit\'s whole file', valueName: 'CODE' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const items = list(values.items);
          const f = filters(values);
          const target: HoldInput['target'] = items.length ? { type: 'items', itemIds: items } : str(values.person) ? { type: 'person', idNumber: String(values.person) } : str(values.unit) ? { type: 'unit', creditCode: String(values.unit) } : { type: 'query', query: { fonds: f.fonds, category: f.category, year: f.year, dossier: f.dossier } };
          const h = await placeHold(rt, cliPrincipal(rt)!, { name: String(values.name ?? ''), kind: String(values.kind ?? '') as HoldKind, reason: String(values.reason ?? ''), owner: str(values.owner), target });
          io.out(values.json ? json(h) : `已冻结 / hold placed: ${holdLine(h)}`);
        }),
    },
    {
      name: 'release',
      summary: 'Release a hold (never the person who placed it)',
      usage: 'HOLD --reason TEXT',
      permission: 'hold.manage',
      options: { reason: { type: 'string', description: '解除理由', valueName: 'TEXT' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const h = await releaseHold(rt, cliPrincipal(rt)!, need(positionals[0], 'hold id', '冻结编号'), String(values.reason ?? ''));
          io.out(values.json ? json(h) : `已解除 / released: ${holdLine(h)}`);
        }),
    },
  ],
};
