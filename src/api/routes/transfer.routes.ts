/** 移交 (issue #11 §6): export a package, verify it (四性), import the archives' receipt. */
import { OBJECT_ID } from '../../domain/ids';
import { z } from 'zod';
import type { Runtime } from '../../runtime';
import { exportTransfer, importReceipt, listTransfers, ReceiptSchema, transferPackageDir, verifyTransfer } from '../../services/transfer';
import { describeForAudit } from '../middleware/auth';
import { defineRoute, type RouteDef } from '../route';
import { loadReadable } from './items.routes';

const actorOf = (ctx: { state: { user?: { username?: string } } }) => String(ctx.state.user?.username ?? 'api');
const roleOf = (ctx: { state: { principal?: { roles?: readonly string[] } } }) => (ctx.state.principal?.roles ?? []).join(',') || null;

export function transferRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/transfers',
      permission: 'transfer.manage',
      summary: '移交: export the selected filed items as a signed BagIt package (metadata XML, PDF, originals, 移交清册), 四性-checked before it leaves',
      tags: ['transfer'],
      body: z.strictObject({ items: z.array(z.string().regex(OBJECT_ID)).min(1).max(10_000) }),
      responses: { 200: { description: 'package id, folder on the server, counts and the 四性 report' }, 422: { description: 'transfer_check_failed' } },
      handler: async (ctx, { body }) => {
        for (const id of body.items) await loadReadable(ctx, rt, id, 'transfer.manage');
        const r = await exportTransfer(rt, { itemIds: body.items, actor: actorOf(ctx), role: roleOf(ctx) });
        describeForAudit(ctx, { type: 'transfer', id: r.packageId }, { items: r.items });
        ctx.body = r;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/transfers',
      permission: 'transfer.manage',
      summary: 'Transfer packages, newest first',
      tags: ['transfer'],
      responses: { 200: { description: 'packages' } },
      handler: async (ctx) => {
        ctx.body = { packages: await listTransfers(rt) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/transfers/:id/verify',
      permission: 'transfer.manage',
      summary: '四性 check of an exported package again: fixity, completeness against the 移交清册, open formats, no active content, the agency signature',
      tags: ['transfer'],
      params: z.object({ id: z.string().regex(/^YJ-[A-Z0-9]{1,8}-\d{8}-[0-9a-f]{6}$/) }),
      responses: { 200: { description: 'the 四性 report' } },
      handler: async (ctx, { params }) => {
        // Found first, then named in the audit entry, then checked (a package that is not there is audited as the route).
        const dir = await transferPackageDir(rt, params.id);
        describeForAudit(ctx, { type: 'transfer', id: params.id });
        ctx.body = verifyTransfer(rt, dir);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/transfers/receipt',
      permission: 'transfer.manage',
      summary: 'Import the archives\' receipt: accepted items are marked transferred; the local copy follows ARCHIVE_TRANSFER_LOCAL_COPY (never destroyed here)',
      tags: ['transfer'],
      body: ReceiptSchema,
      responses: { 200: { description: 'transferred, refused and unknown 档号' } },
      handler: async (ctx, { body }) => {
        describeForAudit(ctx, { type: 'transfer', id: body.packageId });
        ctx.body = await importReceipt(rt, body, { actor: actorOf(ctx), role: roleOf(ctx) });
      },
    }),
  ] as RouteDef[];
}
