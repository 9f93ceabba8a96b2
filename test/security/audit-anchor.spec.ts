/**
 * Issue #13, item 7: audit checkpoints anchored outside the database. Someone with the database
 * deletes the checkpoints and blocks after K; `archive audit verify` must still fail, because the
 * anchor in the object-locked bucket says the trail had gone further. The anchor itself cannot be
 * deleted, and its receipt checks with the certificate alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'minio';
import { openTestRuntime } from '../helpers/runtime';
import { REPO_ROOT, testMinioConfig } from '../helpers/services';

describe('security #13.7: audit checkpoints anchored outside the database', function () {
  this.timeout(120_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;

  const cli = async (args: string[]) => {
    try {
      const r = await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...ctx.env } });
      return { code: 0, stdout: r.stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, stdout: e.stdout };
    }
  };
  const record = async (n: number, from: number) => {
    for (let i = 0; i < n; i++) await ctx.rt.audit.record({ actor: 'anchor.test', action: 'item.read', object: { type: 'item', id: `i${from + i}` }, outcome: 'success' });
  };

  before(async () => {
    ctx = await openTestRuntime();
    await ctx.rt.auth.createUser({ username: 'anchor.auditor', roles: ['secauditor'] });
  });
  after(async () => ctx?.close());

  it('#13.7 cutting the trail back after a checkpoint K (checkpoints and blocks deleted in the database) fails archive audit verify', async () => {
    const rt = ctx.rt;
    await record(20, 1);
    const k = (await rt.audit.checkpoint())!;
    await record(20, 21);
    const last = (await rt.audit.checkpoint())!;
    assert.ok(last.seq > k.seq);
    const before = await cli(['audit', 'verify', '--json', '--as', 'anchor.auditor']);
    assert.equal(before.code, 0, before.stdout);
    assert.ok(JSON.parse(before.stdout).anchoredSeq >= last.seq);

    // The database administrator removes everything after K: blocks, checkpoints, head hints.
    const pad = (n: number) => String(n).padStart(k._id.length, '0');
    await rt.audit.blocks.collection.deleteMany({ _id: { $gt: pad(k.seq) } } as never);
    await rt.audit.checkpoints.collection.deleteMany({ seq: { $gt: k.seq } } as never);
    await rt.db.collection('audit_heads').deleteMany({});
    const inDb = await rt.audit.checkpoints.find({}).lean();
    assert.ok(inDb.every((c) => c.seq <= k.seq));

    const after = await cli(['audit', 'verify', '--json', '--as', 'anchor.auditor']);
    assert.equal(after.code, 1, 'verify must fail: the chain is shorter than the last anchor');
    const report = JSON.parse(after.stdout);
    assert.equal(report.ok, false);
    assert.equal(report.first.kind, 'cut_back');
    assert.ok(report.first.seq >= last.seq, 'the anchor after K');
  });

  it('#13.7 the anchor cannot be deleted or overwritten (COMPLIANCE object lock), and its printed receipt checks with the certificate alone', async () => {
    const r = await cli(['audit', 'anchor', '--json', '--as', 'anchor.auditor']);
    assert.equal(r.code, 0, r.stdout);
    const receipt = JSON.parse(r.stdout) as { payload: string; signature: string; certPem: string; seq: number; hash: string; location: { bucket: string; key: string; versionId: string; mode: string; retainUntil: string } };
    assert.equal(receipt.location.mode, 'COMPLIANCE');
    assert.ok(new Date(receipt.location.retainUntil).getTime() > Date.now());
    const pub = new crypto.X509Certificate(receipt.certPem).publicKey;
    assert.ok(crypto.verify('sha256', Buffer.from(receipt.payload), pub, Buffer.from(receipt.signature, 'base64')), 'the receipt verifies with the certificate');
    assert.match(receipt.payload, new RegExp(`seq=${receipt.seq}\\nhash=${receipt.hash}`));

    // Even with the object store's credentials, the locked version stays.
    const m = new Client(testMinioConfig());
    await assert.rejects(m.removeObject(receipt.location.bucket, receipt.location.key, { versionId: receipt.location.versionId, governanceBypass: true }));
    const st = await m.statObject(receipt.location.bucket, receipt.location.key, { versionId: receipt.location.versionId });
    assert.ok(st.size > 0);

    const text = await cli(['audit', 'anchor', '--as', 'anchor.auditor']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /审计链锚定回执/);
    assert.match(text.stdout, /BEGIN CERTIFICATE/);
  });
});
