import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { featureRoutes } from '../../src/api/routes';
import type { Runtime } from '../../src/runtime';
import { authorize, ROLES, type Principal } from '../../src/services/access/policies';
import { sessionModel } from '../../src/models/user.model';
import { openTestRuntime } from '../helpers/runtime';
import { totp } from '../../src/services/access/totp';

const PASSWORD = 'Correct-Horse-42';

describe('API auth: login, lockout, sessions, CSRF, injection, permission matrix', function () {
  this.timeout(180_000);
  let rt: Runtime;
  let close: () => Promise<void>;
  let server: http.Server;
  let base: string;
  const tokens = new Map<string, string>();
  const principals = new Map<string, Principal>();

  async function login(username: string, password = PASSWORD, extra: Record<string, unknown> = {}): Promise<Response> {
    return fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password, ...extra }) });
  }
  async function tokenFor(username: string): Promise<string> {
    const res = await login(username);
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as any).token;
  }

  before(async () => {
    ({ rt, close } = await openTestRuntime());
    const app = createApp({ config: rt.config, logger: rt.logger, metrics: rt.metrics, readiness: rt.readiness, routes: featureRoutes(rt), auth: { auth: rt.auth, audit: rt.audit } });
    server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const role of ROLES) {
      const u = await rt.auth.createUser({ username: `u.${role}`, roles: [role], password: PASSWORD, clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
      principals.set(role, { id: String(u._id), username: u.username, roles: u.roles, scope: { fonds: '*', agencies: '*', districts: '*' }, clearance: 'sensitive' });
      tokens.set(role, await tokenFor(`u.${role}`));
    }
  });
  after(async () => {
    server?.close();
    await close?.();
  });

  it('signs in with a bearer token, and /me says who', async () => {
    const res = await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${tokens.get('archivist')}` } });
    assert.equal(res.status, 200);
    const me = (await res.json()) as any;
    assert.equal(me.username, 'u.archivist');
    assert.deepEqual(me.roles, ['archivist']);
    // What the roles allow, so that the UI offers nothing the server would refuse.
    assert.ok(me.actions.includes('item.ingest') && !me.actions.includes('audit.verify'), 'an archivist ingests and does not verify the audit chain');
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const a = await login('u.caseworker', 'wrong-password-1');
    const b = await login('no.such.user', 'wrong-password-1');
    assert.equal(a.status, 401);
    assert.equal(b.status, 401);
    const ja = (await a.json()) as any;
    const jb = (await b.json()) as any;
    assert.deepEqual([ja.error.code, ja.error.message, ja.error.messageZh], [jb.error.code, jb.error.message, jb.error.messageZh]);
  });

  it('takes about as long for an unknown user as for a wrong password (a dummy hash is verified)', async () => {
    const time = async (u: string) => {
      const t = performance.now();
      await login(u, 'wrong-password-2');
      return performance.now() - t;
    };
    await time('warm.up');
    const known = await time('u.auditor');
    const unknown = await time('nobody.here');
    assert.ok(unknown > known * 0.3, `unknown ${unknown.toFixed(0)} ms vs known ${known.toFixed(0)} ms`);
  });

  it('locks a username after 5 failures, for existing and unknown users alike, even with the right password', async () => {
    await rt.auth.createUser({ username: 'lock.me', roles: ['caseworker'], password: PASSWORD });
    for (let i = 0; i < 5; i++) assert.equal((await login('lock.me', `bad-${i}-password`)).status, 401);
    const locked = await login('lock.me', PASSWORD);
    assert.equal(locked.status, 429);
    assert.equal(((await locked.json()) as any).error.code, 'rate_limited');
    for (let i = 0; i < 5; i++) await login('ghost.user', `bad-${i}-password`);
    assert.equal((await login('ghost.user', PASSWORD)).status, 429);
  });

  it('logout revokes the token; an expired session is refused', async () => {
    const t = await tokenFor('u.caseworker');
    const auth = { authorization: `Bearer ${t}` };
    assert.equal((await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: auth })).status, 204);
    assert.equal((await fetch(`${base}/api/v1/auth/me`, { headers: auth })).status, 401);
    const t2 = await tokenFor('u.caseworker');
    await sessionModel(rt.db).updateMany({}, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${t2}` } })).status, 401);
    for (const role of ROLES) tokens.set(role, await tokenFor(`u.${role}`));
  });

  it('cookie sessions are httpOnly and need the double-submit CSRF header on unsafe methods', async () => {
    const res = await login('u.archivist', PASSWORD, { mode: 'cookie' });
    assert.equal(res.status, 200);
    const setCookies = res.headers.getSetCookie();
    const session = setCookies.find((c) => c.startsWith('archive_session='))!;
    const csrfC = setCookies.find((c) => c.startsWith('archive_csrf='))!;
    assert.match(session, /httponly/i);
    assert.match(session, /samesite=strict/i);
    assert.doesNotMatch(csrfC, /httponly/i);
    const csrf = ((await res.json()) as any).csrfToken as string;
    assert.equal(csrfC.split(';')[0], `archive_csrf=${csrf}`);
    const cookie = `${session.split(';')[0]}; ${csrfC.split(';')[0]}`;
    assert.equal((await fetch(`${base}/api/v1/auth/me`, { headers: { cookie } })).status, 200);
    const noHeader = await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(noHeader.status, 403);
    assert.equal(((await noHeader.json()) as any).error.details.reason, 'csrf');
    assert.equal((await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': 'x'.repeat(32) } })).status, 403);
    // A bearer-only token in the cookie, or a cookie token as bearer, is not accepted.
    const token = session.split(';')[0]!.split('=')[1]!;
    assert.equal((await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    assert.equal((await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } })).status, 204);
    assert.equal((await fetch(`${base}/api/v1/auth/me`, { headers: { cookie } })).status, 401);
  });

  it('rejects operator injection in bodies and queries at the schema', async () => {
    const a = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: { $ne: null }, password: { $ne: null } }) });
    assert.equal(a.status, 400);
    const b = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'u.archivist', password: PASSWORD, $where: 'sleep(1000)' }) });
    assert.equal(b.status, 400);
    assert.equal(((await b.json()) as any).error.code, 'validation_failed');
    const c = await fetch(`${base}/api/v1/audit?user[$ne]=x`, { headers: { authorization: `Bearer ${tokens.get('auditor')}` } });
    assert.equal(c.status, 400);
    const d = await fetch(`${base}/api/v1/audit?q[$ne]=x`, { headers: { authorization: `Bearer ${tokens.get('auditor')}` } });
    assert.equal(d.status, 400);
  });

  it('a one-time setup secret sets the first password once', async () => {
    const { setupSecret } = await rt.auth.createAdmin('first.admin', 'sysadmin');
    assert.equal((await login('first.admin', PASSWORD)).status, 401, 'no password before setup');
    const setup = (secret: string) => fetch(`${base}/api/v1/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'first.admin', secret, password: PASSWORD }) });
    assert.equal((await setup('not-the-secret-at-all')).status, 401);
    assert.equal((await setup(setupSecret)).status, 204);
    assert.equal((await setup(setupSecret)).status, 401);
    assert.equal((await login('first.admin', PASSWORD)).status, 200);
  });

  it('TOTP: enrol with a code from the secret; login then needs a valid code', async () => {
    await rt.auth.createUser({ username: 'totp.user', roles: ['caseworker'], password: PASSWORD });
    const auth = { authorization: `Bearer ${await tokenFor('totp.user')}`, 'content-type': 'application/json' };
    const start = (await (await fetch(`${base}/api/v1/auth/totp`, { method: 'POST', headers: auth, body: '{}' })).json()) as any;
    assert.match(start.otpauth, /^otpauth:\/\/totp\//);
    assert.equal((await fetch(`${base}/api/v1/auth/totp`, { method: 'POST', headers: auth, body: JSON.stringify({ secret: start.secret, code: '000000' === totp(start.secret) ? '111111' : '000000' }) })).status, 400);
    assert.equal((await fetch(`${base}/api/v1/auth/totp`, { method: 'POST', headers: auth, body: JSON.stringify({ secret: start.secret, code: totp(start.secret) }) })).status, 200);
    const noCode = await login('totp.user');
    assert.equal(noCode.status, 401);
    assert.equal(((await noCode.json()) as any).error.details.totpRequired, true);
    const code = totp(start.secret);
    assert.equal((await login('totp.user', PASSWORD, { totp: code })).status, 200);
    assert.equal((await login('totp.user', PASSWORD, { totp: code })).status, 401, 'a used code is not accepted again');
  });

  it('the security administrator cannot grant roles to themself', async () => {
    const me = principals.get('secadmin')!;
    const res = await fetch(`${base}/api/v1/users/${me.id}/roles`, { method: 'PUT', headers: { authorization: `Bearer ${tokens.get('secadmin')}`, 'content-type': 'application/json' }, body: JSON.stringify({ roles: ['secadmin', 'auditor'] }) });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as any).error.details.reason, 'self_grant');
    const other = principals.get('caseworker')!;
    const ok = await fetch(`${base}/api/v1/users/${other.id}/roles`, { method: 'PUT', headers: { authorization: `Bearer ${tokens.get('secadmin')}`, 'content-type': 'application/json' }, body: JSON.stringify({ roles: ['caseworker'] }) });
    assert.equal(ok.status, 200);
  });

  it('permission matrix: every route in the OpenAPI document × every role (401 / 403 / allowed)', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as any;
    const ops: Array<{ method: string; path: string; permission: string | null }> = [];
    for (const [p, methods] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(methods)) ops.push({ method, path: p, permission: op.security.length ? op['x-permission'] : null });
    }
    assert.ok(ops.length >= 10);
    for (const publicPath of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json', '/api/v1/auth/login']) {
      assert.ok(ops.some((o) => o.path === publicPath && o.permission === null), `${publicPath} should be public`);
    }
    const fill = (p: string) => p.replace(/\{[^}]+\}/g, 'ffffffffffffffffffffffff');
    const failures: string[] = [];
    for (const op of ops) {
      if (op.permission === null) continue;
      const url = `${base}${fill(op.path)}`;
      const anon = await fetch(url, { method: op.method.toUpperCase() });
      if (anon.status !== 401) failures.push(`${op.method} ${op.path} anonymous → ${anon.status}`);
      // The roles of one route at once (independent accounts): the matrix is ~1,000 requests.
      const permission = op.permission;
      await Promise.all(
        ROLES.map(async (role) => {
          const token = op.path === '/api/v1/auth/logout' ? await tokenFor(`u.${role}`) : tokens.get(role)!;
          const res = await fetch(url, { method: op.method.toUpperCase(), headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: op.method === 'get' ? undefined : '{}' });
          await res.arrayBuffer();
          const allowed = authorize(principals.get(role)!, permission).allowed;
          const ok = allowed ? res.status !== 401 && res.status !== 403 : res.status === 403;
          if (!ok) failures.push(`${op.method} ${op.path} as ${role} (permission ${permission}, expected ${allowed ? 'allowed' : '403'}) → ${res.status}`);
        }),
      );
    }
    assert.deepEqual(failures, []);
  });

  it('logins, refusals and calls land in the audit trail, and it verifies', async () => {
    await rt.audit.flush();
    const logins = await rt.audit.list({ action: 'auth.login', limit: 1000 });
    assert.ok(logins.some((e) => e.outcome === 'success' && e.actor === 'u.archivist'));
    assert.ok(logins.some((e) => e.outcome === 'failure' && e.actor === 'no.such.user'));
    assert.ok(logins.some((e) => e.outcome === 'denied' && e.details.reason === 'locked'));
    const denied = (await rt.audit.list({ actor: 'u.sysadmin', limit: 1000 })).filter((e) => e.outcome === 'denied');
    assert.ok(denied.length > 0);
    const r = await rt.audit.verify();
    assert.equal(r.ok, true, JSON.stringify(r.first));
  });
});
