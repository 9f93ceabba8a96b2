import assert from 'node:assert/strict';
import { totp } from '../../src/services/access/totp';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';

describe('ARCHIVE_REQUIRE_TOTP: administrators and approvers must use a second factor', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  const login = (username: string, extra: Record<string, unknown> = {}) =>
    fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: PASSWORD, ...extra }) });

  before(async () => {
    ctx = await openTestRuntime({ ARCHIVE_REQUIRE_TOTP: 'true' });
    const rt = ctx.rt;
    server = await serveTestApp(rt);
    base = server.base;
    await rt.auth.createUser({ username: 'mfa.admin', roles: ['sysadmin'], password: PASSWORD });
    await rt.auth.createUser({ username: 'mfa.worker', roles: ['caseworker'], password: PASSWORD });
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('an administrator without TOTP can only enrol; after enrolling, sign-in needs a code and everything works', async () => {
    const { token } = (await (await login('mfa.admin')).json()) as { token: string };
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const blocked = await fetch(`${base}/api/v1/users/ffffffffffffffffffffffff/status`, { method: 'POST', headers: auth, body: JSON.stringify({ disabled: true }) });
    assert.equal(blocked.status, 403);
    assert.equal(((await blocked.json()) as any).error.details.reason, 'totp_enrolment_required');
    assert.equal((await fetch(`${base}/api/v1/auth/me`, { headers: auth })).status, 200);
    const start = (await (await fetch(`${base}/api/v1/auth/totp`, { method: 'POST', headers: auth, body: '{}' })).json()) as { secret: string };
    assert.equal((await fetch(`${base}/api/v1/auth/totp`, { method: 'POST', headers: auth, body: JSON.stringify({ secret: start.secret, code: totp(start.secret) }) })).status, 200);
    assert.equal((await login('mfa.admin')).status, 401, 'a code is needed now');
    const again = await login('mfa.admin', { totp: totp(start.secret, Date.now() + 30_000) });
    assert.equal(again.status, 200);
    const t2 = ((await again.json()) as { token: string }).token;
    const res = await fetch(`${base}/api/v1/users/ffffffffffffffffffffffff/status`, { method: 'POST', headers: { authorization: `Bearer ${t2}`, 'content-type': 'application/json' }, body: JSON.stringify({ disabled: true }) });
    assert.equal(res.status, 404, 'past the second-factor gate (no such account)');
  });

  it('a caseworker is not required to enrol', async () => {
    const { token } = (await (await login('mfa.worker')).json()) as { token: string };
    assert.equal((await fetch(`${base}/api/v1/access-requests`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  });
});
