/** 借阅/调阅: time-limited access to an item outside one's scope or clearance (services/access-grant). */
import { z } from 'zod';
import type { Runtime } from '../../runtime';
import { ACCESS_STATUSES, decideAccess, endAccess, listAccess, MAX_ACCESS_DAYS, requestAccess } from '../../services/access';
import { defineRoute, type RouteDef } from '../route';
import { OBJECT_ID } from '../../domain/ids';

const GrantView = z.object({
  id: z.string(),
  itemId: z.string(),
  username: z.string(),
  reason: z.string(),
  days: z.number(),
  requestedAt: z.string(),
  status: z.enum(ACCESS_STATUSES),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  until: z.string().nullable(),
  note: z.string(),
  endedBy: z.string().nullable(),
  endedAt: z.string().nullable(),
  item: z.object({ archivalCode: z.string().nullable(), title: z.string().nullable() }).nullable().optional().describe('档号 and 题名, only in lists and only for a caller who may read the item now'),
});
const Id = z.object({ id: z.string().regex(OBJECT_ID) });

export function accessRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/access-requests',
      summary: '借阅申请: ask for time-limited access to an item outside your scope or clearance, with the purpose of use',
      tags: ['access'],
      permission: 'access.request',
      body: z.strictObject({ itemId: z.string().regex(OBJECT_ID), reason: z.string().min(4).max(500), days: z.number().int().min(1).max(MAX_ACCESS_DAYS).optional() }),
      responses: { 201: { description: 'requested', schema: GrantView } },
      handler: async (ctx, { body }) => {
        ctx.status = 201;
        ctx.body = await requestAccess(rt, ctx.state.principal, body);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/access-requests',
      summary: 'Your own access requests, and those you may decide (approvers), newest first',
      tags: ['access'],
      permission: 'session',
      query: z.strictObject({ status: z.enum(ACCESS_STATUSES).optional() }),
      responses: { 200: { description: 'requests', schema: z.object({ requests: z.array(GrantView) }) } },
      handler: async (ctx, { query }) => {
        ctx.body = { requests: await listAccess(rt, ctx.state.principal, { status: query.status }) };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/access-requests/:id/decision',
      summary: 'Approve (for at most the days asked) or refuse an access request; never your own',
      tags: ['access'],
      permission: 'access.approve',
      params: Id,
      body: z.strictObject({ approve: z.boolean(), days: z.number().int().min(1).max(MAX_ACCESS_DAYS).optional(), note: z.string().max(500).optional() }),
      responses: { 200: { description: 'decided', schema: GrantView } },
      handler: async (ctx, { params, body }) => {
        ctx.body = await decideAccess(rt, ctx.state.principal, params.id, body);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/access-requests/:id/end',
      summary: 'End a running grant early (an approver of the item, or the reader)',
      tags: ['access'],
      permission: 'session',
      params: Id,
      responses: { 200: { description: 'ended', schema: GrantView } },
      handler: async (ctx, { params }) => {
        ctx.body = await endAccess(rt, ctx.state.principal, params.id);
      },
    }),
  ] as RouteDef[];
}
