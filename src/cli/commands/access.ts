/** `archive access`: 借阅/调阅 requests and grants from the command line (services/access-grant). */
import { AppError } from '../../errors';
import { ACCESS_STATUSES, decideAccess, endAccess, listAccess, requestAccess, type AccessGrantView, type AccessStatus } from '../../services/access';
import { cliPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

const STATUS_ZH: Record<AccessStatus, string> = { pending: '待审批', approved: '借阅中', rejected: '已拒绝', expired: '已到期', ended: '已终止' };

function line(g: AccessGrantView): string {
  // 档号 and 题名 where the caller may read the item (listAccess says so): what an approver judges.
  const what = g.item ? `  ${g.item.archivalCode ?? '未编档号'} 《${g.item.title ?? '无题名'}》` : '';
  return `${g.id}  ${STATUS_ZH[g.status]}/${g.status}  条目 item ${g.itemId}${what}  ${g.username}  ${g.days} 天 days${g.until ? `  至 until ${g.until}` : ''}  目的 purpose: ${g.reason}`;
}

function need(id: string | undefined, what: string): string {
  if (!id) throw new AppError('validation_failed', { message: `Give the ${what}`, zh: `请提供${what === 'request id' ? '申请编号' : '条目编号'}` });
  return id;
}

function days(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new AppError('validation_failed', { message: '--days must be a whole number', zh: '--days 须为整数' });
  return n;
}

export const accessCommand: Command = {
  name: 'access',
  summary: '借阅/调阅 / Time-limited access to items outside your scope: request, list, approve, refuse, end',
  usage: '<request|list|approve|reject|end>',
  subcommands: [
    {
      name: 'request',
      summary: 'Ask for access to an item, with the purpose of use',
      usage: 'ITEM_ID --reason TEXT [--days N]',
      permission: 'access.request',
      options: { reason: { type: 'string', description: '利用目的 / purpose of use', valueName: 'TEXT' }, days: { type: 'string', description: 'days asked for (default 7, at most 90)', valueName: 'N' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const g = await requestAccess(rt, cliPrincipal(rt)!, { itemId: need(positionals[0], 'item id'), reason: String(values.reason ?? ''), days: days(values.days) });
          io.out(values.json ? JSON.stringify(g) : `已提交借阅申请 / requested: ${line(g)}`);
        }),
    },
    {
      name: 'list',
      summary: 'Your requests, and those you may decide',
      usage: '[--status pending|approved|rejected|expired|ended]',
      permission: 'session',
      options: { status: { type: 'string', description: ACCESS_STATUSES.join(', '), valueName: 'S' } },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const status = values.status === undefined ? undefined : String(values.status);
          if (status !== undefined && !(ACCESS_STATUSES as readonly string[]).includes(status)) throw new AppError('validation_failed', { message: `--status must be one of ${ACCESS_STATUSES.join(', ')}`, zh: '--status 取值无效' });
          const list = await listAccess(rt, cliPrincipal(rt)!, { status: status as AccessStatus | undefined });
          if (values.json) io.out(JSON.stringify({ requests: list }));
          else if (!list.length) io.out('没有借阅申请 / no access requests');
          else for (const g of list) io.out(line(g));
        }),
    },
    ...(['approve', 'reject'] as const).map(
      (verb): Command => ({
        name: verb,
        summary: verb === 'approve' ? 'Approve a request (never your own), for at most the days asked' : 'Refuse a request',
        usage: verb === 'approve' ? 'REQUEST_ID [--days N] [--note TEXT]' : 'REQUEST_ID [--note TEXT]',
        permission: 'access.approve',
        options: { days: { type: 'string', description: 'days granted (default: as asked)', valueName: 'N' }, note: { type: 'string', description: '审批意见 / note', valueName: 'TEXT' } },
        run: async ({ values, positionals, io }) =>
          withRuntime(async (rt) => {
            const g = await decideAccess(rt, cliPrincipal(rt)!, need(positionals[0], 'request id'), { approve: verb === 'approve', days: days(values.days), note: values.note === undefined ? undefined : String(values.note) });
            io.out(values.json ? JSON.stringify(g) : `${verb === 'approve' ? '已批准 / approved' : '已拒绝 / refused'}: ${line(g)}`);
          }),
      }),
    ),
    {
      name: 'end',
      summary: 'End a running grant early (an approver of the item, or the reader)',
      usage: 'REQUEST_ID',
      permission: 'session',
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const g = await endAccess(rt, cliPrincipal(rt)!, need(positionals[0], 'request id'));
          io.out(values.json ? JSON.stringify(g) : `已终止 / ended: ${line(g)}`);
        }),
    },
  ],
};
