/**
 * Who is calling, and may they. app.ts runs guardRoute() for every non-public route, so a route
 * cannot be added unchecked.
 *
 * Bearer tokens (API, CLI) need nothing else. The web UI's httpOnly session cookie needs, on
 * every unsafe method, an X-CSRF-Token header equal to the readable archive_csrf cookie
 * (double submit) and matching the hash stored with the session, so a cross-site form post,
 * which carries cookies but cannot set headers, is refused.
 */
import crypto from 'node:crypto';
import { Stream } from 'node:stream';
import type { Context } from 'koa';
import { AppError } from '../../errors';
import type { AuditTrail } from '../../services/audit';
import { sha256, toPrincipal, type AuthService } from '../../services/access';
import { authorize, DEFAULT_CLEARANCE_LEVELS, type Principal, type Resource } from '../../services/access';
import { maskIdNumbersInText } from '../../domain/id-number';
import { maskPersonalData, showsIdNumbers } from '../../services/access';
import { searchScopeOf } from '../../services/search';

export const SESSION_COOKIE = 'archive_session';
export const CSRF_COOKIE = 'archive_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What an account that must enrol TOTP may still do: enrol, see who it is, sign out. */
const TOTP_ENROLMENT_PATHS = new Set(['/api/v1/auth/totp', '/api/v1/auth/me', '/api/v1/auth/logout']);

export interface AuthDeps {
  auth: AuthService;
  audit?: AuditTrail;
  clearanceLevels?: readonly string[];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** Sets ctx.state.principal / ctx.state.session, or throws 401 (403 for a failed CSRF check). */
export async function authenticateRequest(deps: AuthDeps, ctx: Context): Promise<Principal> {
  const header = ctx.get('authorization');
  const bearer = /^Bearer ([A-Za-z0-9_-]{20,200})$/.exec(header)?.[1];
  const cookie = bearer ? undefined : ctx.cookies.get(SESSION_COOKIE);
  const token = bearer ?? cookie;
  if (!token) throw new AppError('unauthenticated');
  const found = await deps.auth.authenticate(token);
  if (!found || found.session.kind !== (bearer ? 'bearer' : 'cookie')) throw new AppError('unauthenticated');
  if (!bearer && !SAFE_METHODS.has(ctx.method)) {
    const sent = ctx.get('x-csrf-token');
    const cookieCsrf = ctx.cookies.get(CSRF_COOKIE) ?? '';
    if (!sent || !found.session.csrfHash || !sameSecret(sent, cookieCsrf) || !sameSecret(sha256(sent), found.session.csrfHash)) {
      throw new AppError('forbidden', { message: 'Missing or wrong CSRF token (send the archive_csrf cookie value as X-CSRF-Token)', zh: '缺少或错误的 CSRF 令牌', details: { reason: 'csrf' } });
    }
  }
  if (deps.auth.mustEnrolTotp(found.user) && !TOTP_ENROLMENT_PATHS.has(ctx.path)) {
    throw new AppError('forbidden', { message: 'Enrol a second factor first (POST /api/v1/auth/totp), then sign in again with a code', zh: '请先绑定动态验证码（POST /api/v1/auth/totp），再用验证码重新登录', details: { reason: 'totp_enrolment_required' } });
  }
  const principal = toPrincipal(found.user);
  ctx.state.principal = principal;
  ctx.state.session = found.session;
  ctx.state.user = { username: principal.username, id: principal.id };
  // What search may show this caller (routes/search.routes.ts reads it): their fonds and the
  // highest access level their clearance covers.
  ctx.state.searchScope = searchScopeOf(principal, deps.clearanceLevels ?? DEFAULT_CLEARANCE_LEVELS);
  return principal;
}

/** Throws 403 and audits the refusal unless the principal may do `action` (on `resource`). */
export function checkPermission(deps: AuthDeps, ctx: Context, principal: Principal, action: string, resource?: Resource): void {
  const d = authorize(principal, action, resource, { levels: deps.clearanceLevels });
  if (d.allowed) return;
  auditDenied(ctx, action, d.reason);
  throw new AppError('forbidden', { details: { action, reason: d.reason } });
}

/** A refusal goes into the trail, naming the route (ID numbers in the path masked). */
export function auditDenied(ctx: Context, action: string, reason: unknown): void {
  const deps = ctx.state.authDeps as AuthDeps | undefined;
  const principal = ctx.state.principal as Principal | undefined;
  if (!deps || !principal) return;
  void deps.audit
    ?.record({ actor: principal.username, role: principal.roles.join(','), ip: ctx.ip, action, object: { type: 'route', id: `${ctx.method} ${maskIdNumbersInText(ctx.path)}` }, outcome: 'denied', details: { reason } })
    .catch(() => undefined);
}

/** Whether the caller may do `action` on the resource (for filtering lists); true without auth. */
export function mayAccess(ctx: Context, action: string, resource: Resource): boolean {
  const deps = ctx.state.authDeps as AuthDeps | undefined;
  const principal = ctx.state.principal as Principal | undefined;
  if (!deps || !principal) return true;
  return authorize(principal, action, resource, { levels: deps.clearanceLevels }).allowed;
}

/**
 * What the route's audit entry should name: the object acted on and details (a search's query and
 * hit count, the items an upload created). One entry per call, written by guardRoute.
 */
export function describeForAudit(ctx: Context, object: { type: string; id: string } | null, details: Record<string, unknown> = {}): void {
  if (object) ctx.state.auditObject = object;
  ctx.state.auditDetails = { ...(ctx.state.auditDetails as Record<string, unknown> | undefined), ...details };
}

/**
 * ID numbers in the answer: masked for an account without 'personal.full'; shown in full to one
 * with it, and that showing recorded. JSON and text answers only (page images and PDFs are the
 * document itself, read under item.read and audited as such).
 */
function protectPersonalData(deps: AuthDeps, ctx: Context, principal: Principal): void {
  const body: unknown = ctx.body;
  const text = typeof body === 'string' && /^(text\/|application\/json)/.test(ctx.type);
  const json = body !== null && typeof body === 'object' && !Buffer.isBuffer(body) && !(body instanceof Stream) && !ArrayBuffer.isView(body);
  if (!text && !json) return;
  if (!authorize(principal, 'personal.full').allowed) {
    const { value, masked } = maskPersonalData(body);
    if (masked) ctx.body = value;
    return;
  }
  if (showsIdNumbers(body)) {
    void deps.audit
      ?.record({ actor: principal.username, role: principal.roles.join(','), ip: ctx.ip, action: 'personal.view', object: { type: 'route', id: `${ctx.method} ${(ctx as { _matchedRoute?: string })._matchedRoute ?? ctx.path}` }, outcome: 'success', details: { path: maskIdNumbersInText(ctx.path) } })
      .catch(() => undefined);
  }
}

/**
 * Wraps a route handler: authenticate, check the route's permission, run, then audit the call
 * (fire and forget: the trail batches it; a refusal was audited in checkPermission).
 */
export async function guardRoute(deps: AuthDeps, ctx: Context, permission: string, run: () => Promise<void>): Promise<void> {
  const principal = await authenticateRequest(deps, ctx);
  // Before the check: a refusal is audited through these deps (set after it, route refusals went unaudited).
  ctx.state.authDeps = deps;
  checkPermission(deps, ctx, principal, permission);
  let outcome: 'success' | 'failure' = 'failure';
  try {
    await run();
    protectPersonalData(deps, ctx, principal);
    outcome = 'success';
  } finally {
    void deps.audit
      ?.record({
        actor: principal.username,
        role: principal.roles.join(','),
        ip: ctx.ip,
        action: permission,
        object: (ctx.state.auditObject as { type: string; id: string } | undefined) ?? { type: 'route', id: `${ctx.method} ${(ctx as { _matchedRoute?: string })._matchedRoute ?? ctx.path}` },
        outcome,
        // A person's file is addressed by ID number: the trail keeps the path with it masked.
        details: { path: maskIdNumbersInText(ctx.path), status: ctx.status, ...(ctx.state.auditDetails as Record<string, unknown> | undefined) },
      })
      .catch(() => undefined);
  }
}
