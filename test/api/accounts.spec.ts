import assert from 'node:assert/strict';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';

const PASSWORD = 'Correct-Horse-42';
const NEW_PASSWORD = 'Another-Battery-77';

describe('account administration: disable, enable, reset credentials (system administrator)', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let workerId: string;
  let adminId: string;

  const login = (username: string, password: string) => fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  const tokenOf = async (username: string, password = PASSWORD) => ((await (await login(username, password)).json()) as { token: string }).token;
  const post = (path: string, token: string, body?: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  const me = (token: string) => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    server = await serveTestApp(rt);
    base = server.base;
    adminId = String((await rt.auth.createUser({ username: 'acc.sysadmin', roles: ['sysadmin'], password: PASSWORD }))._id);
    workerId = String((await rt.auth.createUser({ username: 'acc.worker', roles: ['caseworker'], password: PASSWORD }))._id);
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('disabling ends the account\'s sessions at once and refuses sign-in; enabling restores sign-in', async () => {
    const admin = await tokenOf('acc.sysadmin');
    const worker = await tokenOf('acc.worker');
    assert.equal((await me(worker)).status, 200);
    assert.equal((await post(`/api/v1/users/${adminId}/status`, admin, { disabled: true })).status, 403, 'never one\'s own account');
    assert.equal((await post(`/api/v1/users/${adminId}/status`, worker, { disabled: true })).status, 403, 'only a system administrator');
    const res = await post(`/api/v1/users/${workerId}/status`, admin, { disabled: true });
    assert.equal(res.status, 200);
    assert.equal((await me(worker)).status, 401, 'the running session ended');
    assert.equal((await login('acc.worker', PASSWORD)).status, 401);
    assert.equal((await post(`/api/v1/users/${workerId}/status`, admin, { disabled: false })).status, 200);
    const unknown = await post('/api/v1/users/0123456789abcdef01234567/status', admin, { disabled: true });
    assert.equal(unknown.status, 404);
    assert.deepEqual(((await unknown.json()) as any).error.details, { user: '0123456789abcdef01234567' });
    assert.equal((await login('acc.worker', PASSWORD)).status, 200);
  });

  it('a credential reset (asked by the system administrator, approved by a security administrator) clears the password and sessions; the person sets a new one with both halves', async () => {
    await ctx.rt.auth.createUser({ username: 'acc.secadmin', roles: ['secadmin'], password: PASSWORD });
    const admin = await tokenOf('acc.sysadmin');
    const sec = await tokenOf('acc.secadmin');
    const worker = await tokenOf('acc.worker');
    const res = await post(`/api/v1/users/${workerId}/reset`, admin);
    assert.equal(res.status, 200);
    const { firstHalf, resetId } = (await res.json()) as { firstHalf: string; resetId: string };
    const ok = await post(`/api/v1/users/${workerId}/reset/approve`, sec, { resetId });
    assert.equal(ok.status, 200);
    const { secondHalf } = (await ok.json()) as { secondHalf: string };
    assert.equal((await me(worker)).status, 401);
    assert.equal((await login('acc.worker', PASSWORD)).status, 401, 'the old password is gone');
    const setup = await fetch(`${base}/api/v1/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'acc.worker', secret: `${firstHalf} ${secondHalf}`, password: NEW_PASSWORD }) });
    assert.equal(setup.status, 204);
    assert.equal((await login('acc.worker', NEW_PASSWORD)).status, 200);
    const trail = await ctx.rt.audit.list({ action: 'user.manage', limit: 20 });
    assert.ok(trail.some((e: any) => e.details?.reset === 'requested' && e.outcome === 'success'));
    assert.ok(trail.some((e: any) => e.details?.reset === 'approved' && e.outcome === 'success'));
    assert.ok(trail.some((e: any) => e.details?.disabled === true && e.outcome === 'success'));
  });

  it('the security auditor reviews the administrators and security events, not business use', async () => {
    const rt = ctx.rt;
    await rt.auth.createUser({ username: 'acc.secauditor', roles: ['secauditor'], password: PASSWORD });
    await rt.auth.createUser({ username: 'acc.auditor', roles: ['auditor'], password: PASSWORD });
    const token = await tokenOf('acc.secauditor');
    await rt.audit.record({ actor: 'someone', role: 'caseworker', action: 'item.read', object: { type: 'item', id: 'x' }, outcome: 'success' });
    await rt.audit.flush();
    const res = await fetch(`${base}/api/v1/audit?limit=200`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    const { entries } = (await res.json()) as { entries: Array<{ role: string | null; action: string }> };
    assert.ok(entries.some((e) => e.action === 'user.manage'), 'the system administrator\'s account changes are shown');
    assert.ok(!entries.some((e) => e.action === 'item.read'), 'a caseworker\'s reading is the 审计员\'s to review');
    const all = (await (await fetch(`${base}/api/v1/audit?limit=200`, { headers: { authorization: `Bearer ${await tokenOf('acc.auditor')}` } })).json()) as { entries: Array<{ action: string }> };
    assert.ok(all.entries.some((e) => e.action === 'item.read'), 'the 审计员 sees business use');
  });
});
