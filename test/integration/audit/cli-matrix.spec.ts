import assert from 'node:assert/strict';
import os from 'node:os';
import { DEFAULT_PERMISSION } from '../../../src/api/route';
import { loadCommands, main } from '../../../src/cli/main';
import type { Command } from '../../../src/cli/command';
import { authorize, isAction, ROLES, type Principal } from '../../../src/services/access/policies';
import { openTestRuntime } from '../../helpers/runtime';

interface Leaf {
  path: string[];
  permission: string;
}

function leaves(cmds: Command[], prefix: string[] = []): Leaf[] {
  return cmds.flatMap((c) => (c.subcommands?.length ? leaves(c.subcommands, [...prefix, c.name]) : [{ path: [...prefix, c.name], permission: c.permission ?? DEFAULT_PERMISSION }]));
}

/** Arguments that get a command past its own argument checks (it reads local files first). */
const ARGS: Record<string, string[]> = {
  ingest: ['package.json'],
  'schedule review': ['retention-rules/rules/3hao-ling-2009.v1.json'],
  search: ['养老'],
  separators: ['--out', `${os.tmpdir()}/cli-matrix-separators.pdf`],
  'schedule apply': ['3hao-ling-2009.v2', '--dry-run'],
  'number withdraw': ['0123456789abcdef01234567', '--reason', 'cli matrix'],
  'storage migrate-lock': ['--to', 'cli-matrix-locked', '--yes'],
  'transfer receipt': ['package.json'],
};

const principal = (role: string): Principal => ({ id: `id-${role}`, username: `cli.${role}`, roles: [role], scope: { fonds: '*', agencies: '*', districts: '*' }, clearance: 'sensitive' });

describe('CLI permission matrix: every command × the roles that lack its permission', function () {
  this.timeout(180_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  const saved: Record<string, string | undefined> = {};
  const all = leaves(loadCommands());

  before(async () => {
    ctx = await openTestRuntime();
    // main() runs in this process and reads its configuration from the environment.
    for (const [k, v] of Object.entries(ctx.env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    for (const role of ROLES) await ctx.rt.auth.createUser({ username: `cli.${role}`, roles: [role], clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await ctx?.close();
  });

  it('every command declares a real permission, or is a machine-local step', () => {
    assert.ok(all.length >= 25, `${all.length} commands`);
    const local = all.filter((l) => l.permission === 'local').map((l) => l.path.join(' '));
    assert.deepEqual(local.sort(), ['config', 'restore', 'serve', 'users create-admin', 'worker']);
    for (const l of all) if (l.permission !== 'local') assert.ok(isAction(l.permission), `${l.path.join(' ')}: ${l.permission}`);
  });

  it('refuses each command to roles without its permission (403 forbidden), and records every refusal', async () => {
    const failures: string[] = [];
    let refusals = 0;
    for (const [i, l] of all.entries()) {
      if (l.permission === 'local') continue;
      const denied = ROLES.filter((r) => !authorize(principal(r), l.permission).allowed);
      // One role without the permission per command, the first or the last by turns: enough to see
      // the check runs (each run opens a runtime); the route × role matrix is in test/api/auth.spec.ts.
      for (const role of [i % 2 ? denied.at(-1) : denied[0]].filter((r): r is (typeof ROLES)[number] => !!r)) {
        const lines: string[] = [];
        const code = await main([...l.path, ...(ARGS[l.path.join(' ')] ?? []), '--as', `cli.${role}`, '--json'], { out: (s) => lines.push(s), err: () => undefined, isTTY: false });
        const error = (JSON.parse(lines.join('\n') || '{}') as { error?: { code?: string } }).error?.code;
        if (code !== 2 || error !== 'forbidden') failures.push(`archive ${l.path.join(' ')} as ${role} (needs ${l.permission}) → exit ${code}, ${error ?? lines.join(' ').slice(0, 120)}`);
        else refusals++;
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(refusals >= 20);
    await ctx.rt.audit.flush();
    const denied = await ctx.rt.audit.list({ limit: 1000 });
    assert.equal(denied.filter((e) => e.outcome === 'denied' && e.ip === 'cli').length, refusals);
  });
});
