/**
 * Appraisal (鉴定), destruction (销毁清册 → approvals → 监销 → certificate) and legal holds (冻结):
 * services/disposition. Compliance officers propose, 鉴定小组 members give opinions and sign off,
 * the 主要负责人 approves, 监销人 execute, auditors read everything and change nothing. Signing
 * steps carry a fresh TOTP code (second-factor re-authentication at the moment of signing).
 */
import { OBJECT_ID } from '../../domain/ids';
import { z } from 'zod';
import type { Runtime } from '../../runtime';
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
  HOLD_KINDS,
  listHolds,
  listLists,
  listPdf,
  listRounds,
  MEMBER_CAPACITIES,
  openRound,
  OPINIONS,
  placeHold,
  releaseHold,
  roundOpinions,
  runExecution,
  queueExecution,
  INLINE_MAX_ITEMS,
  signList,
  startExecution,
  verifyCertificate,
  agencyKey,
} from '../../services/disposition';
import { AppError } from '../../errors';
import { defineRoute, type RouteDef } from '../route';

const Id = z.object({ id: z.string().regex(OBJECT_ID) });
const ItemId = z.string().regex(OBJECT_ID);
const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Totp = z.string().regex(/^\d{6}$/).describe('a fresh TOTP code: every signer re-authenticates at the moment of signing');
const Period = z.enum(['D10', 'D30', 'D50', 'D100', 'Y']);
const DueFilter = z.strictObject({
  asOf: Day.optional().describe('see what is due on this date (default today)'),
  fonds: z.string().max(16).optional(),
  category: z.string().max(16).optional(),
  year: z.string().regex(/^\d{4}$/).optional(),
  dossier: z.string().max(120).optional().describe('the 档号 class (案卷/lowest class) the item is filed in'),
});

const DueItemView = z.object({
  id: z.string(),
  fonds: z.string(),
  archivalCode: z.string().nullable(),
  dossier: z.string().nullable(),
  title: z.string().nullable(),
  category: z.string().nullable(),
  categoryName: z.string().nullable(),
  scheduleItem: z.string().nullable(),
  retention: z.string().nullable(),
  formedOn: z.string().nullable(),
  year: z.string().nullable(),
  dueOn: z.string(),
  pageCount: z.number(),
});
const Member = z.object({ userId: z.string(), username: z.string(), capacity: z.string() });
const RoundView = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(['open', 'closed']),
  proposer: z.string(),
  members: z.array(Member),
  asOf: z.string(),
  openedAt: z.string(),
  itemCount: z.number(),
  opinionsGiven: z.number(),
  closedAt: z.string().nullable(),
  outcomes: z.object({ destroy: z.number(), extend: z.number(), keep: z.number(), none: z.number() }).nullable(),
  reportKey: z.string().nullable(),
});
const Row = z.object({
  seq: z.number(),
  itemId: z.string(),
  archivalCode: z.string().nullable(),
  title: z.string().nullable(),
  docNumber: z.string().nullable(),
  responsible: z.string().nullable(),
  formedOn: z.string().nullable(),
  pages: z.number(),
  pieces: z.number(),
  retention: z.string().nullable(),
  yearsKept: z.number().nullable(),
  opinion: z.string(),
  reason: z.string(),
});
const RunView = z
  .object({
    jobId: z.string(),
    state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
    stage: z.string().nullable().describe('stage of the chunk at hand: recheck, register, shred, unindex, tombstone, done'),
    done: z.number().describe('items finished (destroyed or skipped)'),
    total: z.number(),
    attempts: z.number(),
    error: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .describe('the queued destruction run (a job): progress for the execution console');
const RunReport = z.object({ listId: z.string(), destroyed: z.number(), skipped: z.array(z.object({ itemId: z.string(), reason: z.string() })), pending: z.number() });
const ListView = z.object({
  id: z.string(),
  roundId: z.string(),
  title: z.string(),
  proposer: z.string(),
  createdAt: z.string(),
  version: z.number(),
  sha256: z.string(),
  stage: z.enum(['cancelled', 'executing', 'awaiting_signoffs', 'awaiting_filing', 'awaiting_approval', 'approved', 'done']),
  rows: z.array(Row),
  signatures: z.array(z.object({ step: z.enum(['appraisal', 'head']), username: z.string(), version: z.number(), at: z.string(), void: z.boolean(), note: z.string() })),
  filing: z.object({ date: z.string(), reference: z.string(), receipt: z.boolean(), receiptSha256: z.string().nullable(), by: z.string(), version: z.number(), void: z.boolean() }).nullable(),
  approvedAt: z.string().nullable(),
  executableFrom: z.string().nullable(),
  cancelled: z.object({ by: z.string(), reason: z.string(), at: z.string() }).nullable(),
  execution: z.object({ startedAt: z.string(), supervisors: z.array(z.string()), method: z.string(), place: z.string(), destroyed: z.number(), skipped: z.number(), pending: z.number(), confirmedBy: z.array(z.string()), run: RunView.nullable() }).nullable(),
  chain: z.object({ appraisalSignoffs: z.number(), filing: z.boolean(), coolingOffDays: z.number() }),
});
const HoldTargetIn = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('items'), itemIds: z.array(ItemId).min(1).max(10_000) }),
  z.strictObject({ type: z.literal('person'), idNumber: z.string().regex(/^\d{17}[\dXx]$/) }),
  z.strictObject({ type: z.literal('unit'), creditCode: z.string().regex(/^[0-9A-Za-z]{18}$/) }),
  z.strictObject({ type: z.literal('query'), query: DueFilter.omit({ asOf: true }) }),
]);
const HoldView = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(HOLD_KINDS),
  target: z.object({ type: z.enum(['items', 'person', 'unit', 'query']), itemIds: z.array(z.string()).optional(), label: z.string().optional(), query: z.record(z.string(), z.string()).optional() }),
  reason: z.string(),
  owner: z.string(),
  placedBy: z.string(),
  placedAt: z.string(),
  releasedBy: z.string().nullable(),
  releasedAt: z.string().nullable(),
  releaseReason: z.string().nullable(),
  active: z.boolean(),
  covers: z.number().int().optional().describe('items the hold covers now (in lists, for active holds)'),
});
const CheckView = z.object({
  ok: z.boolean(),
  problems: z.array(z.object({ code: z.string(), message: z.string(), messageZh: z.string() })),
  signer: z.object({ subject: z.string(), fingerprint: z.string() }).nullable(),
  signedAt: z.string().nullable(),
  listId: z.string().nullable(),
  items: z.number().nullable(),
});
const Pdf = { 200: { description: 'PDF', contentType: 'application/pdf' } };

function b64(s: string | undefined, what: string): Buffer | undefined {
  if (s === undefined) return undefined;
  const buf = Buffer.from(s, 'base64');
  if (!buf.length) throw new AppError('validation_failed', { message: `${what}: base64 content`, zh: `${what} 须为 base64 编码内容` });
  return buf;
}

export function dispositionRoutes(rt: Runtime): RouteDef[] {
  const who = (ctx: { state: { principal: unknown } }) => ctx.state.principal as Parameters<typeof dueList>[1] & object;
  const pdf = (ctx: { type: string; set: (k: string, v: string) => void; body: unknown }, bytes: Buffer, name: string, type = 'application/pdf') => {
    ctx.type = type;
    ctx.set('Content-Disposition', `attachment; filename="${name}"`);
    ctx.body = bytes;
  };
  return [
    // ——— 鉴定: due list and rounds ———
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/due',
      summary: '到期鉴定清单: items whose appraisal date has passed (never permanent, provisional, held or already in an open round), oldest first, paged',
      tags: ['disposition'],
      permission: 'disposition.read',
      query: DueFilter.extend({ after: z.string().max(64).optional().describe('the previous page\'s `next`'), limit: z.coerce.number().int().min(1).max(1000).optional() }),
      responses: { 200: { description: 'one page', schema: z.object({ asOf: z.string(), items: z.array(DueItemView), next: z.string().nullable() }) } },
      handler: async (ctx, { query }) => {
        ctx.body = await dueList(rt, who(ctx), query);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/due/groups',
      summary: 'Counts of due items by fonds, category, year or dossier',
      tags: ['disposition'],
      permission: 'disposition.read',
      query: DueFilter.extend({ by: z.enum(['fonds', 'category', 'year', 'dossier']) }),
      responses: { 200: { description: 'groups', schema: z.object({ asOf: z.string(), by: z.string(), groups: z.array(z.object({ key: z.string().nullable(), count: z.number() })), total: z.number() }) } },
      handler: async (ctx, { query }) => {
        const { by, ...f } = query;
        ctx.body = await dueGroups(rt, who(ctx), by, f);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/rounds',
      summary: 'Appraisal rounds, newest first',
      tags: ['disposition'],
      permission: 'disposition.read',
      query: z.strictObject({ status: z.enum(['open', 'closed']).optional() }),
      responses: { 200: { description: 'rounds', schema: z.object({ rounds: z.array(RoundView) }) } },
      handler: async (ctx, { query }) => {
        ctx.body = { rounds: await listRounds(rt, query) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/appraisal/rounds',
      summary: 'Open an appraisal round (鉴定) over due items (explicit ids or the due list), with its 鉴定小组 and their capacity',
      tags: ['disposition'],
      permission: 'destruction.propose',
      body: z.strictObject({
        title: z.string().min(2).max(200),
        members: z.array(z.strictObject({ username: z.string().min(2).max(64), capacity: z.enum(MEMBER_CAPACITIES) })).min(2).max(20),
        itemIds: z.array(ItemId).max(20_000).optional(),
        due: DueFilter.extend({ limit: z.number().int().min(1).max(20_000).optional() }).optional(),
        asOf: Day.optional(),
      }),
      responses: { 201: { description: 'opened', schema: RoundView } },
      handler: async (ctx, { body }) => {
        ctx.status = 201;
        ctx.body = await openRound(rt, who(ctx), body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/rounds/:id',
      summary: 'One appraisal round',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'round', schema: RoundView } },
      handler: async (ctx, { params }) => {
        ctx.body = await getRound(rt, params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/rounds/:id/opinions',
      summary: 'Every member\'s opinion on every item of a round',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'opinions', schema: z.object({ opinions: z.array(z.object({ itemId: z.string(), username: z.string(), opinion: z.enum(OPINIONS), period: z.string().nullable(), years: z.number().nullable(), reason: z.string(), at: z.string() })) }) } },
      handler: async (ctx, { params }) => {
        ctx.body = { opinions: (await roundOpinions(rt, params.id)).map((o) => ({ itemId: o.itemId, username: o.username, opinion: o.opinion, period: o.period, years: o.years, reason: o.reason, at: o.at.toISOString() })) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/appraisal/rounds/:id/opinions',
      summary: '鉴定意见: a member records per-item opinions (destroy / extend with a new period or years and reason / keep permanently); changeable until the round closes',
      tags: ['disposition'],
      permission: 'appraisal.review',
      params: Id,
      body: z.strictObject({
        opinions: z.array(z.strictObject({ itemId: ItemId, opinion: z.enum(OPINIONS), period: Period.optional(), years: z.number().int().min(1).max(100).optional(), reason: z.string().min(2).max(500) })).min(1).max(20_000),
      }),
      responses: { 200: { description: 'recorded', schema: z.object({ recorded: z.number() }) } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await giveOpinions(rt, who(ctx), params.id, body.opinions);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/appraisal/rounds/:id/close',
      summary: 'Close a round: decide each item (all members agree, or it stays), apply extend/keep with history, write the 鉴定工作报告',
      tags: ['disposition'],
      permission: 'destruction.propose',
      params: Id,
      responses: { 200: { description: 'closed', schema: RoundView } },
      handler: async (ctx, { params }) => {
        ctx.body = await closeRound(rt, who(ctx), params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/appraisal/rounds/:id/report',
      summary: 'The round\'s 鉴定工作报告 (PDF, a permanent record)',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: Pdf,
      handler: async (ctx, { params }) => {
        const r = await getRound(rt, params.id);
        if (!r.reportKey) throw new AppError('not_found', { message: 'The round is still open: the report is written when it closes', zh: '鉴定尚未结束，报告在结束时生成' });
        pdf(ctx, await rt.storage.blobs.getBuffer(r.reportKey), `appraisal-report-${params.id}.pdf`);
      },
    }),

    // ——— 销毁清册 and its approval chain ———
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists',
      summary: '销毁清册, newest first',
      tags: ['disposition'],
      permission: 'disposition.read',
      responses: { 200: { description: 'lists', schema: z.object({ lists: z.array(z.object({ id: z.string(), title: z.string(), proposer: z.string(), createdAt: z.string(), version: z.number(), stage: z.string(), roundId: z.string(), items: z.number() })) }) } },
      handler: async (ctx) => {
        ctx.body = { lists: await listLists(rt) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists',
      summary: 'Compile the 销毁清册 from a closed round\'s destroy-agreed items',
      tags: ['disposition'],
      permission: 'destruction.propose',
      body: z.strictObject({ roundId: ItemId, title: z.string().min(2).max(200).optional() }),
      responses: { 201: { description: 'compiled (version 1)', schema: ListView } },
      handler: async (ctx, { body }) => {
        ctx.status = 201;
        ctx.body = await createList(rt, who(ctx), body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists/:id',
      summary: 'A 销毁清册: current version, signatures (void ones marked), 备案, stage, execution',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'list', schema: ListView } },
      handler: async (ctx, { params }) => {
        ctx.body = await getList(rt, params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists/:id/pdf',
      summary: 'The 清册 as PDF (current version)',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: Pdf,
      handler: async (ctx, { params }) => {
        pdf(ctx, await listPdf(rt, params.id), `destruction-list-${params.id}.pdf`);
      },
    }),
    defineRoute({
      method: 'patch',
      path: '/api/v1/disposal/lists/:id',
      summary: 'Edit the 清册 (the proposer): a new version; every earlier signature and 备案 becomes void',
      tags: ['disposition'],
      permission: 'destruction.propose',
      params: Id,
      body: z.strictObject({ removeItemIds: z.array(ItemId).optional(), reasons: z.record(z.string(), z.string().min(2).max(500)).optional(), note: z.string().min(2).max(500), expectVersion: z.number().int().min(1).optional() }),
      responses: { 200: { description: 'new version', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await editList(rt, who(ctx), params.id, body);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/signoffs',
      summary: '鉴定小组 sign-off of the current version (a member, never the proposer, once), with a fresh TOTP code',
      tags: ['disposition'],
      permission: 'appraisal.review',
      params: Id,
      body: z.strictObject({ totp: Totp, expectVersion: z.number().int().min(1).optional(), note: z.string().max(500).optional() }),
      responses: { 200: { description: 'signed', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await signList(rt, who(ctx), params.id, { step: 'appraisal', ...body });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/filing',
      summary: '备案 with the same-level 人社行政部门: date, their reference, the receipt scan (base64; stored encrypted)',
      tags: ['disposition'],
      permission: 'destruction.propose',
      params: Id,
      body: z.strictObject({ date: Day, reference: z.string().min(2).max(200), receipt: z.string().max(1_400_000).optional(), receiptType: z.string().max(100).optional() }),
      responses: { 200: { description: 'filed', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await fileList(rt, who(ctx), params.id, { date: body.date, reference: body.reference, receipt: b64(body.receipt, 'receipt'), receiptType: body.receiptType });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists/:id/filing/receipt',
      summary: 'The 备案 receipt scan',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'the scan', contentType: 'application/octet-stream' } },
      handler: async (ctx, { params }) => {
        const v = await getList(rt, params.id);
        if (!v.filing?.receipt) throw new AppError('not_found', { message: 'No receipt on file', zh: '没有备案回执' });
        const key = `disposition/lists/${params.id}/v${v.filing.version}/filing-receipt`;
        const info = await rt.storage.blobs.stat(key);
        pdf(ctx, await rt.storage.blobs.getBuffer(key), `filing-receipt-${params.id}`, info.contentType ?? 'application/octet-stream');
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/approval',
      summary: '主要负责人 approval of the current version (never the proposer or a signer), with a fresh TOTP code; starts the cooling-off period',
      tags: ['disposition'],
      permission: 'destruction.approve',
      params: Id,
      body: z.strictObject({ totp: Totp, expectVersion: z.number().int().min(1).optional(), note: z.string().max(500).optional() }),
      responses: { 200: { description: 'approved', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await signList(rt, who(ctx), params.id, { step: 'head', ...body });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/reject',
      summary: 'Reject (a member or the head) or withdraw (the proposer) a list before destruction; its items stay',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      body: z.strictObject({ reason: z.string().min(2).max(500) }),
      responses: { 200: { description: 'rejected', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await cancelList(rt, who(ctx), params.id, body.reason);
      },
    }),

    // ——— 监销: execution and certificate ———
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/execution',
      summary: 'Start destruction after the cooling-off period: two 监销人 (the caller and one more), neither proposer nor approver, both authenticate now',
      tags: ['disposition'],
      permission: 'destruction.execute',
      params: Id,
      body: z.strictObject({
        supervisors: z.array(z.strictObject({ username: z.string().min(2).max(64), totp: Totp, password: z.string().max(200).optional().describe('required for the supervisor who is not the caller') })).length(2),
        method: z.string().max(200).optional(),
        place: z.string().max(200).optional(),
      }),
      responses: { 200: { description: 'started', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        const me = who(ctx);
        const other = body.supervisors.find((s) => s.username.toLowerCase() !== me.username);
        if (other && other.password === undefined) throw new AppError('validation_failed', { message: 'The second supervisor authenticates with password and TOTP', zh: '另一名监销人须输入密码和动态验证码' });
        ctx.body = await startExecution(rt, me, params.id, body);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/execution/run',
      summary: `Run (or resume) destruction; safe to call again. Up to ${INLINE_MAX_ITEMS} items left (and no queued run) it runs within the request (200, the report); more, or queue: true, queue it for a worker (202, the run: its progress shows on the list, execution.run)`,
      tags: ['disposition'],
      permission: 'destruction.execute',
      params: Id,
      body: z.strictObject({ queue: z.boolean().optional().describe('queue the run for a worker whatever the list\'s size') }).optional(),
      responses: { 200: { description: 'ran to the end', schema: RunReport }, 202: { description: 'queued (or already queued or running)', schema: RunView } },
      handler: async (ctx, { params, body }) => {
        const v = await getList(rt, params.id);
        const live = v.execution?.run && (v.execution.run.state === 'queued' || v.execution.run.state === 'running');
        if (body?.queue || live || (v.execution && v.execution.pending > INLINE_MAX_ITEMS)) {
          ctx.status = 202;
          ctx.body = await queueExecution(rt, who(ctx), params.id);
          return;
        }
        ctx.body = await runExecution(rt, who(ctx), params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists/:id/execution',
      summary: 'Where destruction stands: items destroyed, skipped and pending, confirmations, and the queued run\'s progress (stage, done of total)',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'execution (null before it is started)', schema: ListView.shape.execution } },
      handler: async (ctx, { params }) => {
        ctx.body = (await getList(rt, params.id)).execution;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/lists/:id/execution/confirm',
      summary: 'A supervisor confirms the end (fresh TOTP); when both have, the signed certificate is issued',
      tags: ['disposition'],
      permission: 'destruction.execute',
      params: Id,
      body: z.strictObject({ totp: Totp, note: z.string().max(500).optional() }),
      responses: { 200: { description: 'confirmed', schema: ListView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await confirmExecution(rt, who(ctx), params.id, body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists/:id/certificate',
      summary: '销毁证明 (PDF, a permanent record); its detached CMS signature is at …/certificate.p7s',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: Pdf,
      handler: async (ctx, { params }) => {
        pdf(ctx, (await certificateFiles(rt, params.id)).pdf, `destruction-certificate-${params.id}.pdf`);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/disposal/lists/:id/certificate.p7s',
      summary: 'The certificate\'s detached CMS (PKCS#7) signature, DER',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'signature', contentType: 'application/pkcs7-signature' } },
      handler: async (ctx, { params }) => {
        pdf(ctx, (await certificateFiles(rt, params.id)).p7s, `destruction-certificate-${params.id}.pdf.p7s`, 'application/pkcs7-signature');
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/disposal/certificates/verify',
      summary: 'Verify a certificate PDF and its signature (base64): says exactly what is wrong',
      tags: ['disposition'],
      permission: 'disposition.read',
      body: z.strictObject({ pdf: z.string().min(4), p7s: z.string().optional() }),
      responses: { 200: { description: 'the check', schema: CheckView } },
      handler: async (ctx, { body }) => {
        ctx.body = await verifyCertificate(b64(body.pdf, 'pdf')!, b64(body.p7s, 'p7s') ?? null, { agencyCertPem: agencyKey(rt).certPem, rt });
      },
    }),

    // ——— 冻结 ———
    defineRoute({
      method: 'get',
      path: '/api/v1/holds',
      summary: 'Legal holds (冻结), newest first',
      tags: ['disposition'],
      permission: 'disposition.read',
      query: z.strictObject({ active: z.enum(['true', 'false']).optional() }),
      responses: { 200: { description: 'holds', schema: z.object({ holds: z.array(HoldView) }) } },
      handler: async (ctx, { query }) => {
        ctx.body = { holds: await listHolds(rt, { active: query.active === undefined ? undefined : query.active === 'true' }) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/holds',
      summary: 'Place a legal hold (litigation, dispute, audit, unsettled accounts) on items, a person\'s or a unit\'s file, or a saved query',
      tags: ['disposition'],
      permission: 'hold.manage',
      body: z.strictObject({ name: z.string().min(2).max(200), kind: z.enum(HOLD_KINDS), reason: z.string().min(4).max(1000), owner: z.string().max(100).optional(), target: HoldTargetIn }),
      responses: { 201: { description: 'placed', schema: HoldView } },
      handler: async (ctx, { body }) => {
        ctx.status = 201;
        ctx.body = await placeHold(rt, who(ctx), body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/holds/:id',
      summary: 'One hold and the items it covers now',
      tags: ['disposition'],
      permission: 'disposition.read',
      params: Id,
      responses: { 200: { description: 'hold', schema: HoldView.extend({ itemIds: z.array(z.string()) }) } },
      handler: async (ctx, { params }) => {
        ctx.body = await getHold(rt, params.id);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/holds/:id/release',
      summary: 'Release a hold (never by the person who placed it)',
      tags: ['disposition'],
      permission: 'hold.manage',
      params: Id,
      body: z.strictObject({ reason: z.string().min(4).max(1000) }),
      responses: { 200: { description: 'released', schema: HoldView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await releaseHold(rt, who(ctx), params.id, body.reason);
      },
    }),
  ] as RouteDef[];
}
