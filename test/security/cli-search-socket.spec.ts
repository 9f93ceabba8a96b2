/**
 * #16.1: `archive search` asks a running API process over its control socket (cli/control-socket.ts)
 * and gets exactly what it would have printed searching by itself: the same hits, the same scope,
 * clearance and masking, the same refusals, one audit entry. The real `archive` binary in a child
 * process against the database and store an in-test API runtime serves.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startControlSocket, type ControlSocketServer } from '../../src/cli/control-server';
import { idCheckDigit, maskIdNumber } from '../../src/domain/id-number';
import { indexItem, SearchEngine, searchIndexReady, snapshotBlobs, snapshotSearchIndex, useSearchEngine } from '../../src/services/search';
import { indexKey } from '../../src/services/platform';
import type { AuditEntry } from '../../src/services/audit/trail';
import { cli, fileItem, securityContext, type SecurityContext } from './helpers';

const ID = '11010519870315231' + idCheckDigit('11010519870315231');
const MASKED_ID = maskIdNumber(ID);

/** A socket file nobody listens on: its process was killed before it could remove it. */
async function staleSocket(dir: string, name = `api-999999-${Date.now().toString(16)}.sock`): Promise<string> {
  const p = path.join(dir, name);
  const script = `require('node:net').createServer().listen(${JSON.stringify(p)}, () => process.kill(process.pid, 'SIGKILL'))`;
  await promisify(execFile)(process.execPath, ['-e', script]).catch(() => undefined);
  assert.ok(fs.lstatSync(p).isSocket(), 'a socket file was left behind');
  return p;
}

describe('#16.1 `archive search` through the API process (control socket)', function () {
  this.timeout(240_000);
  let c: SecurityContext;
  let sock: ControlSocketServer;
  /** the same command line searching in its own process */
  let here: SecurityContext;
  /**
   * The command line with a keystore passphrase that opens nothing: it cannot search by itself,
   * so an answer proves the API process gave it (a fallback after asking would fail loudly).
   */
  let apiOnly: SecurityContext;

  const auditOf = async (actor: string): Promise<AuditEntry[]> => (await c.rt.audit.list({ actor, limit: 1000 })).filter((e) => e.ip === 'cli');
  /** Audit entries are written after the answer: waits until `n` are there (and a moment more, to see a second one). */
  async function settledAudit(actor: string, n: number): Promise<AuditEntry[]> {
    const until = Date.now() + 10_000;
    let got = await auditOf(actor);
    while (got.length < n && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      got = await auditOf(actor);
    }
    await new Promise((r) => setTimeout(r, 300));
    return auditOf(actor);
  }
  const sameText = (s: string) => s.replace(/\([\d.]+ ms\)/, '(N ms)');

  before(async () => {
    c = await securityContext([
      ['ar.all', ['archivist']],
      ['ar.b', ['archivist'], ['B02']],
      ['comp.officer', ['compliance_officer']],
      ['aud', ['auditor']],
      ['gone', ['archivist']],
    ]);
    here = { ...c, env: { ...c.env, ARCHIVE_CONTROL_SOCKET: 'false' } };
    apiOnly = { ...c, env: { ...c.env, ARCHIVE_KEYSTORE_PASSPHRASE: 'not-the-keystore-passphrase' } };
    const ids = [
      await fileItem(c.rt, { fonds: 'A01', pages: ['养老保险待遇核定 张三 ' + ID], title: '养老保险待遇核定表', persons: [{ name: '张三', idNumber: ID }] }),
      await fileItem(c.rt, { fonds: 'B02', pages: ['养老保险 缴费基数申报'], title: '缴费基数申报表' }),
      await fileItem(c.rt, { fonds: 'B02', pages: ['失业保险金申领'], title: '失业保险金申领表' }),
    ];
    for (const id of ids) await indexItem(c.rt, id);
    const gone = await c.rt.auth.findUser('gone');
    await c.rt.auth.setDisabled(gone!._id, true);
    assert.ok(await searchIndexReady(c.rt, 60_000), 'the API runtime has its index in memory');
    sock = (await startControlSocket(c.rt))!;
    assert.ok(sock, 'the control socket listens');
  });
  after(async () => {
    await sock?.close();
    await c?.close();
  });

  it('(the check of the others: without the API, the apiOnly command line cannot search)', async () => {
    const r = await cli({ ...apiOnly, env: { ...apiOnly.env, ARCHIVE_CONTROL_SOCKET: 'false' } }, ['search', '养老保险', '--json', '--as', 'ar.all']);
    assert.notEqual(r.code, 0, r.stdout);
  });

  it('the socket is 0600 in a 0700 folder under the data folder, and is removed at close', async () => {
    assert.equal(path.dirname(sock.path), path.join(c.env.ARCHIVE_DATA_DIR!, 'run', 'control'));
    assert.ok(fs.lstatSync(sock.path).isSocket());
    assert.equal(fs.statSync(sock.path).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(sock.path)).mode & 0o777, 0o700);
    const other = (await startControlSocket(c.rt))!;
    assert.notEqual(other.path, sock.path, 'a second API process on the same data folder gets a socket of its own');
    assert.ok(fs.existsSync(sock.path) && fs.existsSync(other.path), 'and leaves the first one alone');
    await other.close();
    assert.ok(!fs.existsSync(other.path), 'removed at a clean shutdown');
  });

  it('gives the same hits as searching in the process, text and --json, within the account\'s scope, masked as there', async () => {
    for (const [who, args] of [
      ['ar.all', ['养老保险']],
      ['ar.all', ['养老保险', '--json']],
      ['ar.b', ['养老保险', '--json']], // B02 only
      ['comp.officer', ['养老保险', '--json']], // no personal.full: the ID number masked
      ['ar.all', ['保险', '--limit', '1', '--sort', 'date']],
      ['ar.all', ['--person', ID, '--json']],
    ] as Array<[string, string[]]>) {
      const n = sock.answered;
      const fast = await cli(apiOnly, ['search', ...args, '--as', who]);
      assert.equal(sock.answered, n + 1, `${who} ${args.join(' ')}: answered by the API process`);
      const slow = await cli(here, ['search', ...args, '--as', who]);
      assert.equal(sock.answered, n + 1, 'ARCHIVE_CONTROL_SOCKET=false searches in the process');
      assert.equal(fast.code, 0, fast.stdout + fast.stderr);
      assert.equal(slow.code, 0, slow.stdout + slow.stderr);
      assert.equal(sameText(fast.stdout), sameText(slow.stdout), `${who} ${args.join(' ')}`);
      if (args.includes('--json')) {
        const hits = JSON.parse(fast.stdout).hits as unknown[];
        assert.ok(hits.length > 0, `${who} ${args.join(' ')}: some hits`);
      }
    }
    const all = JSON.parse((await cli(apiOnly, ['search', '养老保险', '--json', '--as', 'ar.all'])).stdout);
    const b = JSON.parse((await cli(apiOnly, ['search', '养老保险', '--json', '--as', 'ar.b'])).stdout);
    assert.equal(all.total, 2);
    assert.equal(b.total, 1, 'the B02 archivist finds only B02');
    assert.ok(all.hits.some((h: { snippet: string }) => h.snippet.includes(ID)), 'an archivist sees the ID number in full');
    const co = (await cli(apiOnly, ['search', ID, '--json', '--as', 'comp.officer'])).stdout;
    assert.ok(!co.includes(ID) && co.includes(MASKED_ID), `masked for the compliance officer: ${co}`);
  });

  it('writes one audit entry for the search (ip cli, the masked query, the total)', async () => {
    const before = (await settledAudit('ar.all', 0)).length;
    const n = sock.answered;
    const r = await cli(apiOnly, ['search', `张三 ${ID}`, '--as', 'ar.all', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(sock.answered, n + 1);
    const entries = await settledAudit('ar.all', before + 1);
    assert.equal(entries.length, before + 1, 'exactly one entry');
    const e = entries[0]!;
    assert.equal(e.ip, 'cli');
    assert.equal(e.action, 'search');
    assert.equal(e.outcome, 'success');
    assert.deepEqual(e.object, { type: 'search', id: '-' });
    assert.equal(e.role, 'archivist');
    assert.deepEqual(e.details, { q: `张三 ${MASKED_ID}`, total: JSON.parse(r.stdout).total });
  });

  it('refuses a disabled account and an account without `search` exactly as in the process; the refusal audited once', async () => {
    for (const [who, code] of [
      ['gone', 'unauthenticated'],
      ['aud', 'forbidden'],
      ['nobody.here', 'unauthenticated'],
    ] as const) {
      for (const json of [true, false]) {
        const args = ['search', '养老保险', '--as', who, ...(json ? ['--json'] : [])];
        const before = (await settledAudit(who, 0)).length;
        const n = sock.answered;
        const fast = await cli(c, args);
        assert.equal(sock.answered, n + 1, `${who}: refused by the API process`);
        assert.equal(fast.code, 2, fast.stdout + fast.stderr);
        if (json) assert.equal(JSON.parse(fast.stdout).error.code, code);
        else assert.match(fast.stderr, new RegExp(`\\[${code}\\]`));
        assert.ok(!fast.stdout.includes('养老保险待遇核定表'), 'no hit is printed');
        const audited = await settledAudit(who, before + (code === 'forbidden' ? 1 : 0));
        if (code === 'forbidden') {
          assert.equal(audited.length, before + 1, 'one denial in the trail');
          assert.equal(audited[0]!.outcome, 'denied');
          assert.deepEqual(audited[0]!.object, { type: 'command', id: 'archive search' });
        } else assert.equal(audited.length, before, 'no account, nothing to attribute');
        const slow = await cli(here, args);
        assert.equal(fast.code, slow.code);
        assert.equal(fast.stdout, slow.stdout, `${who}: the same answer as in the process`);
        assert.equal(fast.stderr, slow.stderr);
      }
    }
  });

  it('a validation error is raised before anything is asked or loaded', async () => {
    const n = sock.answered;
    for (const args of [['--limit', '0', '养老'], ['--person', '123'], ['  ']]) {
      const r = await cli(apiOnly, ['search', ...args, '--json', '--as', 'ar.all']);
      assert.equal(r.code, 2);
      assert.equal(JSON.parse(r.stdout).error.code, 'validation_failed');
    }
    assert.equal(sock.answered, n);
  });

  it('a stale socket is passed over: the live API answers, and with none live the command searches by itself', async () => {
    // A stale socket newest in the API's folder: refused, the live one asked next.
    const stale = await staleSocket(path.dirname(sock.path));
    const n = sock.answered;
    const fast = await cli(apiOnly, ['search', '养老保险', '--json', '--as', 'ar.all']);
    assert.equal(fast.code, 0, fast.stdout + fast.stderr);
    assert.equal(sock.answered, n + 1);
    // Only stale sockets: the command line searches by itself, silently, with the same answer.
    const lonely = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-run-'));
    fs.chmodSync(lonely, 0o700);
    await staleSocket(lonely);
    fs.writeFileSync(path.join(lonely, 'api-1-abc.sock'), 'not a socket');
    const t0 = Date.now();
    const alone = await cli({ ...c, env: { ...c.env, ARCHIVE_CONTROL_SOCKET_DIR: lonely } }, ['search', '养老保险', '--json', '--as', 'ar.all']);
    assert.equal(alone.code, 0, alone.stdout + alone.stderr);
    assert.equal(alone.stderr, '', 'silently');
    assert.equal(alone.stdout, fast.stdout);
    assert.equal(sock.answered, n + 1, 'not asked');
    assert.ok(Date.now() - t0 < 60_000);
    // The next API process to start in a folder removes the stale sockets (and only those).
    assert.ok(fs.existsSync(stale));
    const next = (await startControlSocket(c.rt))!;
    assert.ok(!fs.existsSync(stale), 'stale socket removed at start');
    assert.ok(fs.existsSync(sock.path), 'the live one kept');
    await next.close();
    fs.rmSync(lonely, { recursive: true, force: true });
  });

  it('an API process serving another archive (another configuration) is not asked', async () => {
    const n = sock.answered;
    // Other clearance labels on the same run folder: the API declines, the command searches by itself.
    const other = await cli({ ...c, env: { ...c.env, ARCHIVE_CLEARANCE_LEVELS: 'public,internal,sensitive,secret' } }, ['search', '养老保险', '--json', '--as', 'ar.all']);
    assert.equal(other.code, 0, other.stdout + other.stderr);
    assert.equal(sock.answered, n, 'declined');
  });
  // Last: it leaves the API runtime with an engine of its own.
  it('an API process whose index is still loading sends the command to search by itself (one audit entry, from there)', async () => {
    // A snapshot to load, and the blob store held back while the API loads it (gigabytes of mirrors).
    // (the in-process searches above left one already; this makes sure)
    await snapshotSearchIndex(c.rt);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const blobs = snapshotBlobs(c.rt);
    const text = () => Promise.reject(new Error('no snippets from this engine'));
    useSearchEngine(c.rt, new SearchEngine({ db: c.rt.db, key: await indexKey(c.rt), text, snapshots: { ...blobs, get: async (k) => (await gate, blobs.get(k)) } }));
    try {
      const before = (await settledAudit('ar.all', 0)).length;
      const n = sock.answered;
      const t0 = Date.now();
      const r = await cli(c, ['search', '养老保险', '--json', '--as', 'ar.all']);
      assert.ok(Date.now() - t0 < 30_000, 'declined at once, not after the client\'s answer timeout (60 s)');
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stderr, '', 'silently');
      assert.equal(JSON.parse(r.stdout).total, 2, 'the full answer, from the command\'s own index');
      assert.equal(sock.answered, n, 'the API declined');
      const after = await settledAudit('ar.all', before + 1);
      assert.equal(after.length, before + 1, 'one audit entry (the API wrote none)');
      // and the apiOnly command line, which cannot search by itself, fails rather than getting a partial answer
      assert.notEqual((await cli(apiOnly, ['search', '养老保险', '--json', '--as', 'ar.all'])).code, 0);
    } finally {
      release();
    }
  });

});
