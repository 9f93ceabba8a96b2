import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openTestRuntime } from '../helpers/runtime';
import { REPO_ROOT } from '../helpers/services';

function launch(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, out: () => out, err: () => err };
}

describe('the server process: start, ready, graceful stop, clear failure when services are down', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  before(async () => {
    ctx = await openTestRuntime();
  });
  after(() => ctx?.close());

  it('serves /readyz on real services and exits 0 on SIGTERM', async () => {
    const p = launch(['serve', '--port', '0', '--json'], { ...ctx.env, LOG_LEVEL: 'info' });
    const deadline = Date.now() + 30_000;
    // (the command's --json line, not the log line that also names the url)
    while (!p.out().includes('"controlSocket"')) {
      if (Date.now() > deadline) throw new Error(`no URL printed: ${p.err()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { url, controlSocket } = JSON.parse(p.out().split('\n').find((l) => l.includes('"controlSocket"'))!) as { url: string; controlSocket: string };
    assert.equal(path.dirname(controlSocket), path.join(ctx.config.dataDir, 'run', 'control'), 'the control socket of `archive search` (#16.1)');
    assert.ok(fs.lstatSync(controlSocket).isSocket());
    assert.equal(fs.statSync(controlSocket).mode & 0o777, 0o600);
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as any;
    assert.deepEqual(Object.keys(body.checks).sort(), ['keys', 'keystore_matches_archive', 'minio', 'minio_writable', 'mongodb', 'mongodb_writable', 'workers_not_wedged']);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
    assert.match(p.out(), /shutdown complete/);
    assert.ok(!fs.existsSync(controlSocket), 'the control socket is removed at shutdown');
    assert.match(p.out(), /"requestId":"[0-9a-f-]{36}"/, 'request log lines carry the request id');
  });

  it('MongoDB unreachable at start-up: a clear error within seconds, not a hang', async () => {
    const started = Date.now();
    const p = launch(['serve', '--port', '0'], { ...ctx.env, MONGODB_URI: 'mongodb://127.0.0.1:1/archive', MONGODB_CONNECT_TIMEOUT_MS: '1500' });
    const code = await p.exited;
    assert.notEqual(code, 0);
    // A hang never ends; 45 s leaves room for the process's own start on a loaded 2-core machine
    // (the connection attempt itself is bounded by MONGODB_CONNECT_TIMEOUT_MS: 1.5 s).
    assert.ok(Date.now() - started < 45_000, `${Date.now() - started} ms`);
    assert.match(p.err(), /service_unavailable/);
    assert.match(p.err(), /npm run services:up/);
  });

  it('MinIO unreachable at start-up: a clear error within seconds', async () => {
    const p = launch(['health', '--json'], { ...ctx.env, MINIO_ENDPOINT: 'http://127.0.0.1:1' });
    const code = await p.exited;
    assert.notEqual(code, 0);
    assert.match(p.out() + p.err(), /service_unavailable/);
  });
});
