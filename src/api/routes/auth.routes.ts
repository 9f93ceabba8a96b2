/** Sign-in, sign-out, first-password setup, and account administration (三员: accounts vs roles). */
import { z } from 'zod';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { RESET_ID_LENGTH, toPrincipal } from '../../services/access';
import { actionsOf, seesSecurityEventsOnly, ROLES, type Principal } from '../../services/access';
import { newTotpSecret } from '../../services/access';
import { checkPermission, CSRF_COOKIE, SESSION_COOKIE } from '../middleware/auth';
import { defineRoute, type RouteDef } from '../route';
import { OBJECT_ID } from '../../domain/ids';

const Username = z.string().min(1).max(128);
const ScopeList = z.union([z.literal('*'), z.array(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/)).max(200)]);
const PrincipalView = z.object({
  id: z.string(),
  username: z.string(),
  roles: z.array(z.string()),
  clearance: z.string(),
  actions: z.array(z.string()).describe('What the roles allow (policies.ROLE_ACTIONS): the web UI offers only these, the server still decides each request'),
});

function view(p: Principal) {
  return { id: p.id, username: p.username, roles: [...p.roles], clearance: p.clearance, scope: p.scope, actions: [...actionsOf(p.roles)].sort() };
}

export function authRoutes(rt: Runtime): RouteDef[] {
  const deps = { auth: rt.auth, audit: rt.audit };
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/login',
      summary: 'Sign in. mode=bearer returns a token for the API and CLI; mode=cookie sets an httpOnly session cookie and returns the CSRF token for the web UI',
      tags: ['auth'],
      public: true,
      body: z.strictObject({
        username: Username,
        password: z.string().min(1).max(1024),
        totp: z.string().regex(/^\d{6}$/).optional(),
        mode: z.enum(['bearer', 'cookie']).default('bearer'),
      }),
      responses: {
        200: { description: 'signed in', schema: z.object({ token: z.string().optional(), csrfToken: z.string().optional(), expiresAt: z.string(), user: PrincipalView }) },
        401: { description: 'wrong username or password (the same answer for unknown users), or a TOTP code is required' },
        429: { description: 'too many failed attempts for this username' },
      },
      handler: async (ctx, { body }) => {
        const res = await rt.auth.login({ username: body.username, password: body.password, totp: body.totp, ip: ctx.ip, kind: body.mode });
        const expires = res.session.expiresAt;
        const user = view(toPrincipal(res.user));
        if (body.mode === 'cookie') {
          ctx.cookies.set(SESSION_COOKIE, res.token, { httpOnly: true, sameSite: 'strict', secure: ctx.secure, expires, path: '/', overwrite: true });
          ctx.cookies.set(CSRF_COOKIE, res.csrfToken!, { httpOnly: false, sameSite: 'strict', secure: ctx.secure, expires, path: '/', overwrite: true });
          ctx.body = { csrfToken: res.csrfToken, expiresAt: expires.toISOString(), user };
        } else {
          ctx.body = { token: res.token, expiresAt: expires.toISOString(), user };
        }
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/setup',
      summary: 'Set the first password of an account with its one-time setup secret (from "archive users create-admin")',
      tags: ['auth'],
      public: true,
      body: z.strictObject({ username: Username, secret: z.string().min(10).max(200), password: z.string().min(1).max(1024) }),
      responses: { 204: { description: 'password set; sign in with it' } },
      handler: async (ctx, { body }) => {
        await rt.auth.completeSetup(body.username, body.secret, body.password);
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/logout',
      summary: 'Sign out: revokes this session',
      tags: ['auth'],
      permission: 'session',
      responses: { 204: { description: 'signed out' } },
      handler: async (ctx) => {
        await rt.auth.logout(ctx.state.session, ctx.state.principal.username);
        ctx.cookies.set(SESSION_COOKIE, null, { path: '/' });
        ctx.cookies.set(CSRF_COOKIE, null, { path: '/' });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/auth/me',
      summary: 'The signed-in user',
      tags: ['auth'],
      permission: 'session',
      responses: { 200: { description: 'the user', schema: PrincipalView } },
      handler: (ctx) => {
        ctx.body = view(ctx.state.principal as Principal);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/auth/totp',
      summary: 'Turn on TOTP for oneself. Without a code: returns a fresh secret (not yet stored). With {secret, code} from the authenticator app: stores it (sealed); from then on login needs a code. Replacing an existing second factor also needs currentCode (from the old one) or password',
      tags: ['auth'],
      permission: 'session',
      body: z.strictObject({
        secret: z.string().regex(/^[A-Z2-7]{32}$/).optional(),
        code: z.string().regex(/^\d{6}$/).optional(),
        currentCode: z.string().regex(/^\d{6}$/).optional(),
        password: z.string().min(1).max(1024).optional(),
      }),
      responses: { 200: { description: 'a secret to enrol, or enabled: true' }, 403: { description: 'a second factor is already set and neither a current code nor the password was given' } },
      handler: async (ctx, { body }) => {
        const me = ctx.state.principal as Principal;
        if (!body.secret || !body.code) {
          const secret = newTotpSecret();
          ctx.body = { secret, otpauth: `otpauth://totp/si-archive:${encodeURIComponent(me.username)}?secret=${secret}&issuer=si-archive&algorithm=SHA1&digits=6&period=30`, enabled: false };
          return;
        }
        const { replaced } = await rt.auth.enrolTotp(me.id, { secret: body.secret, code: body.code, currentCode: body.currentCode, password: body.password });
        await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: ctx.ip, action: 'auth.totp', object: { type: 'user', id: me.id }, outcome: 'success', details: { replaced } });
        ctx.body = { enabled: true };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/users',
      summary: 'Create an account (system administrator). It has no roles until a security administrator grants them; the response carries a one-time setup secret',
      tags: ['users'],
      permission: 'user.manage',
      body: z.strictObject({ username: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/), displayName: z.string().max(100).optional() }),
      responses: { 201: { description: 'created', schema: z.object({ id: z.string(), username: z.string(), setupSecret: z.string(), expiresAt: z.string() }) } },
      handler: async (ctx, { body }) => {
        const { user, setupSecret, expiresAt } = await rt.auth.createAdmin(body.username, null);
        await rt.audit.record({ actor: ctx.state.principal.username, role: ctx.state.principal.roles.join(','), ip: ctx.ip, action: 'user.manage', object: { type: 'user', id: String(user._id) }, outcome: 'success', details: { created: user.username } });
        ctx.status = 201;
        ctx.body = { id: String(user._id), username: user.username, setupSecret, expiresAt: expiresAt.toISOString() };
      },
    }),
    defineRoute({
      method: 'put',
      path: '/api/v1/users/:id/roles',
      summary: 'Set an account\'s roles, scope and clearance (security administrator; never one\'s own)',
      tags: ['users'],
      permission: 'role.grant',
      params: z.object({ id: z.string().regex(OBJECT_ID) }),
      body: z.strictObject({
        roles: z.array(z.enum(ROLES)).max(ROLES.length),
        scope: z.strictObject({ fonds: ScopeList, agencies: ScopeList, districts: ScopeList }).optional(),
        clearance: z.string().regex(/^[a-z_]{1,32}$/).optional(),
      }),
      responses: { 200: { description: 'updated', schema: PrincipalView } },
      handler: async (ctx, { params, body }) => {
        const target = await rt.auth.loadUser(params.id);
        const updated = await rt.auth.grantRoles(ctx.state.principal, target, { roles: body.roles, scope: body.scope, clearance: body.clearance }, { levels: rt.config.clearanceLevels, ip: ctx.ip });
        ctx.body = view(toPrincipal(updated));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/users/:id/status',
      summary: 'Disable (every session ends at once, sign-in refused) or re-enable an account (system administrator; never one\'s own)',
      tags: ['users'],
      permission: 'user.manage',
      params: z.object({ id: z.string().regex(OBJECT_ID) }),
      body: z.strictObject({ disabled: z.boolean() }),
      responses: { 200: { description: 'updated', schema: z.object({ id: z.string(), username: z.string(), disabled: z.boolean() }) } },
      handler: async (ctx, { params, body }) => {
        const target = await rt.auth.loadUser(params.id);
        checkPermission(deps, ctx, ctx.state.principal, 'user.manage', { targetUserId: params.id });
        await rt.auth.setDisabled(params.id, body.disabled);
        await rt.audit.record({ actor: ctx.state.principal.username, role: ctx.state.principal.roles.join(','), ip: ctx.ip, action: 'user.manage', object: { type: 'user', id: params.id }, outcome: 'success', details: { username: target.username, disabled: body.disabled } });
        ctx.body = { id: params.id, username: target.username, disabled: body.disabled };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/users/:id/reset',
      summary: 'Ask for a credential reset (system administrator; never one\'s own): returns the FIRST half of the new setup secret and a resetId. Nothing changes until a security administrator approves (POST /api/v1/users/:id/reset/approve), which returns the second half: the account holder needs both, so no single administrator can set the password (三员分立)',
      tags: ['users'],
      permission: 'user.manage',
      params: z.object({ id: z.string().regex(OBJECT_ID) }),
      responses: { 200: { description: 'reset requested', schema: z.object({ id: z.string(), username: z.string(), resetId: z.string(), firstHalf: z.string(), expiresAt: z.string(), approvedBy: z.literal('secadmin') }) } },
      handler: async (ctx, { params }) => {
        const target = await rt.auth.loadUser(params.id);
        checkPermission(deps, ctx, ctx.state.principal, 'user.manage', { targetUserId: params.id });
        if (target.local) throw new AppError('conflict', { message: 'The local operator has no password to reset', zh: '本机操作员账号没有密码，无需重置' });
        const { resetId, firstHalf, expiresAt } = await rt.auth.requestReset(params.id, ctx.state.principal.id);
        await rt.audit.record({ actor: ctx.state.principal.username, role: ctx.state.principal.roles.join(','), ip: ctx.ip, action: 'user.manage', object: { type: 'user', id: params.id }, outcome: 'success', details: { username: target.username, reset: 'requested', resetId } });
        ctx.body = { id: params.id, username: target.username, resetId, firstHalf, expiresAt: expiresAt.toISOString(), approvedBy: 'secadmin' };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/users/:id/reset/approve',
      summary: 'Approve a pending credential reset (security administrator; never one\'s own account, never the administrator who asked): password and TOTP cleared, sessions ended, earlier setup secrets void; returns the SECOND half of the setup secret for the account holder',
      tags: ['users'],
      permission: 'role.grant',
      params: z.object({ id: z.string().regex(OBJECT_ID) }),
      body: z.strictObject({ resetId: z.string().regex(new RegExp(`^[a-f0-9]{${RESET_ID_LENGTH}}$`)).optional() }),
      responses: { 200: { description: 'approved', schema: z.object({ id: z.string(), username: z.string(), secondHalf: z.string(), expiresAt: z.string() }) } },
      handler: async (ctx, { params, body }) => {
        const target = await rt.auth.loadUser(params.id);
        checkPermission(deps, ctx, ctx.state.principal, 'role.grant', { targetUserId: params.id });
        const resetId = body.resetId ?? (await rt.auth.pendingReset(params.id))?.resetId;
        if (!resetId) throw new AppError('not_found', { message: 'No pending reset request for this account', zh: '该账号没有待批准的重置申请' });
        const { secondHalf, expiresAt } = await rt.auth.approveReset(params.id, resetId, ctx.state.principal.id);
        await rt.audit.record({ actor: ctx.state.principal.username, role: ctx.state.principal.roles.join(','), ip: ctx.ip, action: 'user.manage', object: { type: 'user', id: params.id }, outcome: 'success', details: { username: target.username, reset: 'approved', resetId } });
        ctx.body = { id: params.id, username: target.username, secondHalf, expiresAt: expiresAt.toISOString() };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/audit',
      summary: 'Audit entries, newest first',
      tags: ['audit'],
      permission: 'audit.read',
      query: z.strictObject({
        user: z.string().max(128).optional(),
        action: z.string().max(64).optional(),
        objectId: z.string().max(128).optional(),
        objectType: z.string().max(64).optional(),
        since: z.iso.datetime({ offset: true }).optional(),
        until: z.iso.datetime({ offset: true }).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(100),
      }),
      responses: { 200: { description: 'entries' } },
      handler: async (ctx, { query }) => {
        ctx.body = {
          entries: await rt.audit.list({
            actor: query.user,
            action: query.action,
            objectId: query.objectId,
            objectType: query.objectType,
            securityOnly: seesSecurityEventsOnly(ctx.state.principal.roles),
            since: query.since ? new Date(query.since) : undefined,
            until: query.until ? new Date(query.until) : undefined,
            limit: query.limit,
          }),
        };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/audit/verify',
      summary: 'Verify the audit hash chain and signed checkpoints',
      tags: ['audit'],
      permission: 'audit.verify',
      responses: { 200: { description: 'verification report' } },
      handler: async (ctx) => {
        ctx.body = await rt.audit.verify();
      },
    }),
  ] as RouteDef[];
}
