/**
 * The retention schedule in force and its versions, applying a version to the items, and 档号
 * withdrawal with its register (issue #11 §1).
 */
import { OBJECT_ID } from '../../domain/ids';
import { z } from 'zod';
import { inForceFrom, scheduleVersions } from '../../../retention-rules';
import type { Runtime } from '../../runtime';
import { applySchedule, scheduleById, scheduleFor, withdrawalRegister, withdrawNumber } from '../../services/filing';
import { presentItem } from '../../services/records';
import { describeForAudit } from '../middleware/auth';
import { defineRoute, type RouteDef } from '../route';
import { loadReadable } from './items.routes';

const ItemId = z.object({ id: z.string().regex(OBJECT_ID, 'must be an item id') });
const actorOf = (ctx: { state: { user?: { username?: string; roles?: string[] } } }) => String(ctx.state.user?.username ?? 'api');
const roleOf = (ctx: { state: { principal?: { roles?: readonly string[] } } }) => (ctx.state.principal?.roles ?? []).join(',') || null;

export function retentionRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/v1/schedule',
      permission: 'item.read',
      summary: '保管期限表: the versions bundled as data files and the one in force (configuration or date)',
      tags: ['retention'],
      responses: { 200: { description: 'versions and the one in force' } },
      handler: async (ctx) => {
        const inForce = scheduleFor(rt);
        ctx.body = {
          inForce: inForce.versionId,
          pinned: rt.config.schedule.version ?? null,
          versions: scheduleVersions().map((s) => ({ version: s.versionId, title: s.title, effectiveFrom: s.effectiveFrom, inForceFrom: inForceFrom(s), rows: s.items.length, provisionalRows: s.items.filter((i) => i.provisional).length })),
        };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/schedule/apply',
      permission: 'retention.manage',
      summary: 'Re-evaluate every filed/review item under a schedule version; each change is recorded with the version. dryRun lists without changing',
      tags: ['retention'],
      body: z.strictObject({ version: z.string().regex(/^[a-z0-9][a-z0-9-]*\.v\d+$/), dryRun: z.boolean().default(false) }),
      responses: { 200: { description: 'examined / unchanged counts and every change' } },
      handler: async (ctx, { body }) => {
        const target = scheduleById(body.version);
        describeForAudit(ctx, { type: 'schedule', id: target.versionId }, { dryRun: body.dryRun });
        ctx.body = await applySchedule(rt, target, { actor: actorOf(ctx), role: roleOf(ctx), dryRun: body.dryRun });
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/items/:id/number/withdraw',
      permission: 'number.withdraw',
      summary: '档号撤销: withdraw the item\'s 档号 with a reason; the number is never reused and stays in the register, the item returns to review',
      tags: ['retention'],
      params: ItemId,
      body: z.strictObject({ reason: z.string().min(2).max(500) }),
      responses: { 200: { description: 'the item (in review, without a number) and the register entry' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'number.withdraw');
        const { item, withdrawal } = await withdrawNumber(rt, params.id, { reason: body.reason, actor: actorOf(ctx), role: roleOf(ctx) });
        describeForAudit(ctx, { type: 'item', id: params.id }, { archivalCode: withdrawal.archivalCode });
        ctx.body = { item: await presentItem(rt, item), withdrawal: presentWithdrawal(withdrawal) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/number-withdrawals',
      permission: 'item.read',
      summary: '撤销登记 (空号): every withdrawn 档号 with reason, who and when; optionally one class or one item',
      tags: ['retention'],
      query: z.object({ classKey: z.string().max(120).optional(), itemId: z.string().regex(OBJECT_ID).optional() }),
      responses: { 200: { description: 'register entries, oldest first' } },
      handler: async (ctx, { query }) => {
        ctx.body = { entries: (await withdrawalRegister(rt, query)).map(presentWithdrawal) };
      },
    }),
  ] as RouteDef[];
}

function presentWithdrawal(w: { classKey: string; seq: number; archivalCode: string; itemId: string; reason: string; actor: string; at: Date; scheduleVersion: string | null }) {
  return { archivalCode: w.archivalCode, classKey: w.classKey, seq: w.seq, itemId: w.itemId, reason: w.reason, actor: w.actor, at: w.at.toISOString(), scheduleVersion: w.scheduleVersion };
}
