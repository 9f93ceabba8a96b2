import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { blockOf, rewriteBlock } from '../../helpers/audit';
import { openTestRuntime } from '../../helpers/runtime';
import { REPO_ROOT } from '../../helpers/services';
import type { Runtime } from '../../../src/runtime';

const run = promisify(execFile);

describe('CLI: archive users / archive audit, permission-checked and audited', function () {
  this.timeout(180_000);
  let rt: Runtime;
  let env: Record<string, string>;
  let close: () => Promise<void>;
  before(async () => {
    ({ rt, env, close } = await openTestRuntime());
  });
  after(async () => close?.());

  async function cli(args: string[], extra: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...env, ...extra } });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('create-admin prints a one-time setup secret; the account has no password until it is used', async () => {
    const r = await cli(['users', 'create-admin', 'audit.boss', '--role', 'secauditor', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.role, 'secauditor');
    assert.ok(out.setupSecret.length >= 20);
    const u = await rt.auth.findUser('audit.boss');
    assert.equal(u?.passwordHash, null);
    const bad = await cli(['users', 'create-admin', 'x.y', '--role', 'archivist']);
    assert.equal(bad.code, 2);
  });

  it('the local operator may not read the audit trail; the security auditor may, and both attempts are audited', async () => {
    const denied = await cli(['audit', 'list', '--json']);
    assert.equal(denied.code, 2);
    assert.equal(JSON.parse(denied.stdout).error.code, 'forbidden');
    const ok = await cli(['audit', 'list', '--json', '--as', 'audit.boss']);
    assert.equal(ok.code, 0, ok.stderr);
    const entries = JSON.parse(ok.stdout).entries as any[];
    assert.ok(entries.some((e) => e.actor === 'operator' && e.action === 'audit.read' && e.outcome === 'denied'));
    assert.ok(entries.some((e) => e.action === 'system.local' && e.object.id === 'archive users create-admin'));
    const viaEnv = await cli(['audit', 'list', '--user', 'operator', '--json'], { ARCHIVE_USER: 'audit.boss' });
    assert.ok((JSON.parse(viaEnv.stdout).entries as any[]).every((e) => e.actor === 'operator'));
    const unknown = await cli(['audit', 'list', '--json', '--as', 'nobody']);
    assert.equal(JSON.parse(unknown.stdout).error.code, 'unauthenticated');
  });

  it('audit verify reports an intact chain (exit 0), then the altered entry (exit 1)', async () => {
    const ok = await cli(['audit', 'verify', '--json', '--as', 'audit.boss']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).ok, true);
    const b = await blockOf(rt.audit, 2);
    b.lines[b.index] = '{"tampered":true}';
    await rewriteBlock(rt.audit, b);
    const bad = await cli(['audit', 'verify', '--as', 'audit.boss']);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /NOT intact.*\[altered\] entry 2 /s);
  });

  it('secadmin grants roles with the CLI, but never to themself', async () => {
    await rt.auth.createUser({ username: 'sec.admin', roles: ['secadmin'] });
    await rt.auth.createUser({ username: 'new.clerk', roles: [] });
    const ok = await cli(['users', 'grant', 'new.clerk', '--roles', 'caseworker', '--as', 'sec.admin']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await rt.auth.findUser('new.clerk'))?.roles, ['caseworker']);
    const self = await cli(['users', 'grant', 'sec.admin', '--roles', 'secadmin,secauditor', '--as', 'sec.admin', '--json']);
    assert.equal(JSON.parse(self.stdout).error.code, 'forbidden');
    const notSec = await cli(['users', 'grant', 'new.clerk', '--roles', 'archivist', '--json']);
    assert.equal(JSON.parse(notSec.stdout).error.code, 'forbidden');
  });

  it('the system administrator creates an account with its display name and lists accounts, never with secrets', async () => {
    await rt.auth.createUser({ username: 'sys.admin', roles: ['sysadmin'] });
    const made = await cli(['users', 'create', 'zhang.wei', '--name', '张伟', '--as', 'sys.admin', '--json']);
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.equal((await rt.auth.findUser('zhang.wei'))?.displayName, '张伟');
    const list = await cli(['users', 'list', '--as', 'sys.admin', '--json']);
    assert.equal(list.code, 0, list.stdout + list.stderr);
    const names = (JSON.parse(list.stdout).users as Array<Record<string, unknown>>).map((u) => u.username as string);
    assert.deepEqual(names, [...names].sort(), 'by username');
    assert.ok(names.includes('zhang.wei') && names.includes('sec.admin'));
    assert.ok(!/passwordHash|totpSecret/.test(list.stdout));
  });
});
