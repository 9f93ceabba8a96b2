/**
 * #13.5: every CLI command goes through the same authorization as its API route. Run as the real
 * `archive` binary (a child process) against the same database the API serves.
 */
import assert from 'node:assert/strict';
import { DEFAULT_PERMISSION } from '../../src/api/route';
import { featureRoutes } from '../../src/api/routes';
import type { Command } from '../../src/cli/command';
import { loadCommands } from '../../src/cli/main';
import { idCheckDigit } from '../../src/domain/id-number';
import { itemModel } from '../../src/models/item.model';
import { api, cli, fileItem, securityContext, type SecurityContext } from './helpers';

const ID = '11010519870315231' + idCheckDigit('11010519870315231');

function leaves(cmds: Command[], prefix: string[] = []): Array<{ path: string; permission: string | undefined }> {
  return cmds.flatMap((c) => (c.subcommands?.length ? leaves(c.subcommands, [...prefix, c.name]) : [{ path: [...prefix, c.name].join(' '), permission: c.permission }]));
}

describe('#13.5 CLI commands make the same checks as their API routes', function () {
  this.timeout(240_000);
  let c: SecurityContext;
  let secret: string; // sensitive item in A01
  let open: string; // public item in B02

  before(async () => {
    c = await securityContext([
      ['ar.all', ['archivist']],
      ['ar.a', ['archivist'], ['A01'], 'internal'],
      ['ar.b', ['archivist'], ['B02']],
      ['aud', ['auditor']],
      ['sys', ['sysadmin']],
      ['cw', ['caseworker']],
    ]);
    secret = await fileItem(c.rt, { fonds: 'A01', status: 'review', pages: ['养老保险待遇核定 机密内容'], title: '机密核定表', persons: [{ name: '张三', idNumber: ID }] });
    open = await fileItem(c.rt, { fonds: 'B02', pages: ['养老保险待遇核定 公开内容'], title: '公开核定表' });
    assert.equal((await api(c, 'ar.all', 'PUT', `/api/v1/items/${secret}/access-level`, { level: 'sensitive' })).status, 200);
  });
  after(async () => c?.close());

  it('#13.5 every CLI command declares its permission; those with an API route declare the route\'s', () => {
    const all = leaves(loadCommands());
    assert.deepEqual(all.filter((l) => l.permission === undefined).map((l) => l.path), [], 'no command falls back to the default');
    const routes = featureRoutes(c.rt);
    const routePermission = (method: string, p: string) => routes.find((r) => r.method === method && r.path === p)?.permission ?? DEFAULT_PERMISSION;
    const perm = (p: string) => all.find((l) => l.path === p)?.permission;
    assert.equal(perm('search'), routePermission('get', '/api/v1/search'));
    assert.equal(perm('ingest'), routePermission('post', '/api/v1/ingest'));
    assert.equal(perm('show'), routePermission('get', '/api/v1/items/:id'));
    assert.equal(perm('correct'), routePermission('patch', '/api/v1/items/:id'));
    assert.equal(perm('catalogue'), routePermission('get', '/api/v1/catalogue'));
    assert.equal(perm('separators'), routePermission('post', '/api/v1/separators'));
    assert.ok(perm('reindex') && perm('reindex') !== DEFAULT_PERMISSION);
  });

  it('#13.5 `archive search` as an auditor or a system administrator is refused (no content search)', async () => {
    for (const who of ['aud', 'sys']) {
      const r = await cli(c, ['search', '养老', '--as', who, '--json']);
      assert.equal(r.code, 2, `${who}: ${r.stdout}${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).error.code, 'forbidden');
      assert.ok(!r.stdout.includes('公开'), 'no hit is printed');
    }
    assert.equal((await api(c, 'aud', 'GET', '/api/v1/search?q=养老')).status, 403, 'as over the API');
  });

  it('#13.5 `archive reindex` needs a permission: an auditor is refused', async () => {
    for (const who of ['aud']) {
      const r = await cli(c, ['reindex', '--as', who, '--json']);
      assert.equal(r.code, 2, `${who}: ${r.stdout}${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).error.code, 'forbidden');
    }
  });

  it('#13.5 `archive confirm` / `correct` check the item\'s fonds and level, and change nothing when refused', async () => {
    const before = await itemModel(c.rt.db).findById(secret).lean();
    // (a child process takes seconds here: one refusal per reason, one per command)
    for (const [who, args] of [
      ['ar.b', ['confirm', secret]], // another fonds
      ['ar.a', ['correct', secret, '--title', '改']], // below the item's level
    ] as const) {
      const r = await cli(c, [...args, '--as', who, '--json']);
      assert.equal(r.code, 2, `${args[0]} as ${who}: ${r.stdout}${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).error.code, 'forbidden');
      assert.ok(!r.stdout.includes(ID) && !r.stdout.includes('机密'), 'nothing of the item is printed');
    }
    const after = await itemModel(c.rt.db).findById(secret).lean();
    assert.equal(after?.status, before?.status);
    assert.equal(after?.title, before?.title);
    // The API refuses the same callers the same way.
    assert.equal((await api(c, 'ar.b', 'PATCH', `/api/v1/items/${secret}`, { confirm: true })).status, 403);
    assert.equal((await api(c, 'ar.a', 'PATCH', `/api/v1/items/${secret}`, { confirm: true })).status, 403);
    // And an archivist whose scope and clearance cover it may.
    const ok = await cli(c, ['correct', secret, '--title', '核定表（更正）', '--as', 'ar.all', '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal(JSON.parse(ok.stdout).id, secret);
  });

  it('#13.5 `archive catalogue` lists only the fonds and levels the account may export', async () => {
    const rows = async (who: string) => {
      const r = await cli(c, ['catalogue', '--as', who, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return JSON.parse(r.stdout).rows as Array<Record<string, unknown>>;
    };
    await itemModel(c.rt.db).updateOne({ _id: open }, { $set: { archivalCode: 'B02-SB·2021-D100-ZH·GL-0001' } });
    await itemModel(c.rt.db).updateOne({ _id: secret }, { $set: { status: 'filed', archivalCode: 'A01-SB·2021-D100-ZH·GL-0001' } });
    const all = (await api(c, 'ar.all', 'GET', '/api/v1/catalogue?format=json')).text;
    const b = JSON.stringify(await rows('ar.b'));
    const a = JSON.stringify(await rows('ar.a'));
    assert.ok(all.includes('公开核定表') && all.includes('A01-SB'), `an unrestricted archivist sees both: ${all}`);
    assert.ok(b.includes('公开核定表'), 'B02 archivist: the B02 item');
    assert.ok(!b.includes('核定表（更正）') && !b.includes('机密'), 'B02 archivist: nothing of A01');
    assert.ok(!a.includes('核定表（更正）') && !a.includes('机密'), 'A01 archivist below sensitive: not the sensitive item');
    assert.ok(!a.includes('公开核定表'), 'A01 archivist: nothing of B02');
  });
});
