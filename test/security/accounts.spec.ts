/**
 * Issue #13, items 3, 10, 13 and 14 (accounts): black-box over HTTP as an attacker or a rogue
 * administrator would try it. Each test failed on the code before the fix.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { totp } from '../../src/services/access/totp';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';
import { REPO_ROOT } from '../helpers/services';

const PASSWORD = 'Correct-Horse-42';
const NEW_PASSWORD = 'Another-Battery-77';
const ROGUE_PASSWORD = 'Rogue-Admin-Pass-99';

describe('security #13: accounts, resets, lockout, second factor, defaults', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  const ids: Record<string, string> = {};

  const json = { 'content-type': 'application/json' };
  const login = (username: string, password: string, extra: Record<string, unknown> = {}) =>
    fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ username, password, ...extra }) });
  const tokenOf = async (username: string, password = PASSWORD, extra: Record<string, unknown> = {}) => {
    const res = await login(username, password, extra);
    assert.equal(res.status, 200, `sign-in of ${username}`);
    return ((await res.json()) as { token: string }).token;
  };
  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...json }, body: body === undefined ? undefined : JSON.stringify(body) });
  const setup = (username: string, secret: string, password: string) => fetch(`${base}/api/v1/auth/setup`, { method: 'POST', headers: json, body: JSON.stringify({ username, secret, password }) });
  const me = (token: string) => fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    ctx = await openTestRuntime();
    server = await serveTestApp(ctx.rt);
    base = server.base;
    const all = { fonds: '*' as const, agencies: '*' as const, districts: '*' as const };
    for (const [u, role] of [['s.sys', 'sysadmin'], ['s.sys2', 'sysadmin'], ['s.sec', 'secadmin'], ['s.worker', 'caseworker'], ['s.lock', 'caseworker']] as const) {
      ids[u] = String((await ctx.rt.auth.createUser({ username: u, roles: [role], password: PASSWORD, ...(role === 'caseworker' ? { scope: all } : {}) }))._id);
    }
  });
  after(async () => {
    await server?.close();
    await ctx?.close();
  });

  it('#13.3 a system administrator alone cannot obtain a usable credential for another account', async () => {
    const sys = await tokenOf('s.sys');
    const worker = await tokenOf('s.worker');
    const res = await call('POST', `/api/v1/users/${ids['s.worker']}/reset`, sys);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.setupSecret, undefined, 'no whole setup secret is handed to the administrator');
    const { firstHalf, resetId } = body as { firstHalf: string; resetId: string };
    // The half the sysadmin holds sets nothing, and the account is untouched until approval.
    assert.equal((await setup('s.worker', firstHalf, ROGUE_PASSWORD)).status, 401);
    assert.equal((await me(worker)).status, 200, 'nothing changes before a security administrator approves');
    // The sysadmin cannot approve (not theirs to do), nor can a second sysadmin.
    assert.equal((await call('POST', `/api/v1/users/${ids['s.worker']}/reset/approve`, sys, { resetId })).status, 403);
    assert.equal((await call('POST', `/api/v1/users/${ids['s.worker']}/reset/approve`, await tokenOf('s.sys2'), { resetId })).status, 403);
    // A security administrator approves: sessions end, the second half goes to the approver.
    const ok = await call('POST', `/api/v1/users/${ids['s.worker']}/reset/approve`, await tokenOf('s.sec'), { resetId });
    assert.equal(ok.status, 200, await ok.clone().text());
    const { secondHalf } = (await ok.json()) as { secondHalf: string };
    assert.equal((await me(worker)).status, 401, 'the account\'s sessions ended');
    // Neither half alone works; both (the account holder) do.
    assert.equal((await setup('s.worker', secondHalf, ROGUE_PASSWORD)).status, 401);
    assert.equal((await setup('s.worker', firstHalf, ROGUE_PASSWORD)).status, 401);
    assert.equal((await setup('s.worker', `${firstHalf}${secondHalf}`, NEW_PASSWORD)).status, 204);
    assert.equal((await login('s.worker', NEW_PASSWORD)).status, 200);
    // The security administrator cannot start a reset either (user.manage is the sysadmin's).
    assert.equal((await call('POST', `/api/v1/users/${ids['s.worker']}/reset`, await tokenOf('s.sec'))).status, 403);
  });

  it('#13.10 30 concurrent sign-ins with wrong passwords: at most 5 passwords are checked (401) before 429', async () => {
    const tries = Array.from({ length: 60 }, (_, i) => `wrong-password-${i}`);
    const statuses: number[] = [];
    for (let i = 0; i < tries.length; i += 30) {
      const batch = await Promise.all(tries.slice(i, i + 30).map(async (p) => (await login('s.lock', p)).status));
      statuses.push(...batch);
    }
    const checked = statuses.filter((s) => s === 401).length;
    assert.ok(checked <= 5, `${checked} passwords were checked (401), the lockout allows 5`);
    assert.equal(statuses.filter((s) => s === 429).length, 60 - checked);
    assert.equal((await login('s.lock', PASSWORD)).status, 429, 'locked even with the right password');
    // An unknown username locks the same way.
    const ghost = await Promise.all(Array.from({ length: 30 }, (_, i) => login('ghost.account', `nope-${i}`).then((r) => r.status)));
    assert.ok(ghost.filter((s) => s === 401).length <= 5);
  });

  it('#13.13 setup secrets: one per epoch is ever used, a reset voids earlier ones, never replaces a password; ends sessions', async () => {
    // Two secrets issued for the same new account: using one voids the other.
    const { user, setupSecret: first } = await ctx.rt.auth.createAdmin('s.new', 'secauditor');
    const extra = await ctx.rt.auth.requestReset(user._id, ids['s.sys']!);
    const { secondHalf } = await ctx.rt.auth.approveReset(user._id, extra.resetId, ids['s.sec']!);
    assert.equal((await setup('s.new', first, PASSWORD)).status, 401, 'a secret from before a reset is void');
    assert.equal((await setup('s.new', extra.firstHalf + secondHalf, PASSWORD)).status, 204);
    const session = await tokenOf('s.new');
    // Another valid-looking secret for an account that already has a password: refused, nothing changes.
    const again = await ctx.rt.auth.requestReset(user._id, ids['s.sys']!);
    assert.equal((await setup('s.new', again.firstHalf, ROGUE_PASSWORD)).status, 401);
    assert.equal((await login('s.new', ROGUE_PASSWORD)).status, 401);
    assert.equal((await me(session)).status, 200);
    // The (old-style) single secret of an account with a password does nothing either.
    const created = await ctx.rt.auth.createAdmin('s.new2', null);
    assert.equal((await setup('s.new2', created.setupSecret, PASSWORD)).status, 204);
    assert.equal((await setup('s.new2', created.setupSecret, ROGUE_PASSWORD)).status, 401);
    assert.equal((await login('s.new2', PASSWORD)).status, 200);
  });

  it('#13.13 POST /auth/totp never replaces a second factor without a current code or the password; the secret is stored sealed', async () => {
    const token = await tokenOf('s.sys2');
    const enrol = async (body: Record<string, unknown>) => call('POST', '/api/v1/auth/totp', token, body);
    const a = ((await (await enrol({})).json()) as { secret: string }).secret;
    assert.equal((await enrol({ secret: a, code: totp(a) })).status, 200);
    const stored = (await ctx.rt.db.collection('users').findOne({ username: 's.sys2' }))!;
    assert.notEqual(stored.totpSecret, a);
    assert.ok(!String(stored.totpSecret).includes(a), 'the TOTP secret is not stored in clear');
    // A stolen session tries to swap the factor.
    const b = ((await (await enrol({})).json()) as { secret: string }).secret;
    const swap = await enrol({ secret: b, code: totp(b) });
    assert.equal(swap.status, 403);
    assert.equal(((await swap.json()) as any).error.details.reason, 'totp_proof_required');
    assert.equal((await enrol({ secret: b, code: totp(b), password: 'not-the-password-1' })).status, 403);
    // Sign-in still needs a code of the first secret.
    assert.equal((await login('s.sys2', PASSWORD, { totp: totp(b) })).status, 401);
    // With the password (or a current code) the owner replaces it.
    assert.equal((await enrol({ secret: b, code: totp(b), password: PASSWORD })).status, 200);
    assert.equal((await login('s.sys2', PASSWORD, { totp: totp(b) })).status, 200);
  });

  it('#13.14 a new account has no scope until one is given; role, reset and disable audit entries are stored before the answer', async () => {
    const sys = await tokenOf('s.sys');
    const created = await call('POST', '/api/v1/users', sys, { username: 's.fresh' });
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    const fresh = (await ctx.rt.auth.findUser('s.fresh'))!;
    assert.deepEqual(fresh.scope, { fonds: [], agencies: [], districts: [] });
    const grant = await call('PUT', `/api/v1/users/${id}/roles`, await tokenOf('s.sec'), { roles: ['caseworker'] });
    assert.equal(grant.status, 200);
    assert.deepEqual(((await grant.json()) as any).scope.fonds, [], 'a role alone gives no fonds');
    // Awaited, not fire-and-forget: visible in the stored trail at once, without a flush.
    const stored = async (action: string) => (await ctx.rt.audit.blocks.find({ action }).lean()).length;
    assert.ok((await stored('role.grant')) > 0);
    assert.equal((await call('POST', `/api/v1/users/${id}/status`, sys, { disabled: true })).status, 200);
    const blocks = await ctx.rt.audit.blocks.find({ action: 'user.manage' }).lean();
    assert.ok(blocks.some((b) => b.e.includes('"disabled":true')), 'the disable entry is stored before the answer');
  });

  it('#13.14 archive users grant sets a scope (the CLI gives what the API gives)', async () => {
    await ctx.rt.auth.createUser({ username: 's.clerk', roles: [] });
    const cli = async (args: string[]) => {
      try {
        const r = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...ctx.env } });
        return { code: 0, stdout: r.stdout };
      } catch (err) {
        const e = err as { code: number; stdout: string };
        return { code: e.code, stdout: e.stdout };
      }
    };
    const r = await cli(['users', 'grant', 's.clerk', '--roles', 'caseworker', '--fonds', 'Z001,Z002', '--clearance', 'internal', '--as', 's.sec', '--json']);
    assert.equal(r.code, 0, r.stdout);
    const u = (await ctx.rt.auth.findUser('s.clerk'))!;
    assert.deepEqual(u.scope.fonds, ['Z001', 'Z002']);
    assert.deepEqual(u.scope.agencies, [], 'what was not given stays empty');
    assert.equal(u.clearance, 'internal');
    const bad = await cli(['users', 'grant', 's.clerk', '--roles', 'caseworker', '--fonds', '$ne', '--as', 's.sec', '--json']);
    assert.notEqual(bad.code, 0);
  });
});
