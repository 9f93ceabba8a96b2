import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { seqId } from '../../../src/models/audit.model';
import { loadAuditSigner, type AuditSigner } from '../../../src/services/audit/signing';
import { AuditTrail, canonicalJson, sha256Hex, type AuditEntry } from '../../../src/services/audit/trail';
import { blockOf, rewriteBlock, storedBlocks } from '../../helpers/audit';
import { dropTestDb, openTestDb } from '../../helpers/db';
import { testLogger } from '../../helpers/logger';

function input(i: number, actor = 'zhang.wei') {
  return { actor, role: 'archivist', ip: '10.0.0.7', action: i % 2 ? 'item.read' : 'item.ingest', object: { type: 'item', id: `item-${i}` }, outcome: 'success' as const, details: { i, 备注: '测试' } };
}

describe('audit trail: hash chain, batching, checkpoints, verify', function () {
  this.timeout(120_000);
  let conn: Connection;
  let dir: string;
  let signer: AuditSigner;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-test-'));
    signer = loadAuditSigner(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    conn = await openTestDb('audit');
  });
  afterEach(async () => {
    await dropTestDb(conn);
  });

  const trail = (opts: Partial<ConstructorParameters<typeof AuditTrail>[1]> = {}) => new AuditTrail(conn, { signer, logger: testLogger, ...opts });

  async function seeded(n: number, checkpointEvery = 1_000_000): Promise<AuditTrail> {
    const a = trail({ checkpointEvery });
    await Promise.all(Array.from({ length: n }, (_, i) => a.record(input(i))));
    await a.checkpoint();
    return a;
  }

  it('creates the signing key and certificate once, in <dataDir>/keys, and reuses them', () => {
    assert.ok(fs.existsSync(path.join(dir, 'keys', 'audit-signing.key.pem')));
    assert.ok(fs.existsSync(path.join(dir, 'keys', 'audit-signing.crt.pem')));
    assert.equal(fs.statSync(path.join(dir, 'keys', 'audit-signing.key.pem')).mode & 0o077, 0);
    const again = loadAuditSigner(dir);
    assert.equal(again.fingerprint, signer.fingerprint);
    assert.ok(again.verify('x', signer.sign('x')));
  });

  it('appends entries with server time, consecutive seqs and each entry chained to the one before', async () => {
    const a = await seeded(25);
    const blocks = await storedBlocks(a);
    // Recorded together, flushed together: one document, keyed by its first seq.
    assert.equal(blocks.length, 1);
    assert.equal(blocks[0]!.doc._id, seqId(1));
    assert.deepEqual(blocks[0]!.doc.actor, ['zhang.wei']);
    assert.deepEqual([...blocks[0]!.doc.action].sort(), ['item.ingest', 'item.read']);
    const lines = blocks[0]!.lines;
    assert.equal(lines.length, 25);
    let prev = '0'.repeat(64);
    lines.forEach((line, i) => {
      const e = JSON.parse(line) as AuditEntry;
      assert.equal(e.seq, i + 1);
      assert.equal(e.prev, prev);
      assert.equal(line, canonicalJson(e));
      assert.equal(blocks[0]!.hashes[i], sha256Hex(line));
      assert.ok(Math.abs(Date.parse(e.at) - Date.now()) < 60_000);
      prev = blocks[0]!.hashes[i]!;
    });
    const report = await a.verify();
    assert.equal(report.ok, true, JSON.stringify(report.first));
    assert.equal(report.entries, 25);
    assert.equal(report.lastCheckpointSeq, 25);
    assert.equal(report.unsignedTail, 0);
  });

  it('two appenders (as two processes would) never share a seq and keep one valid chain', async () => {
    const a = trail({ maxBatch: 50 });
    const b = trail({ maxBatch: 50 });
    const work: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      work.push(a.record(input(i, 'a')));
      work.push(b.record(input(i, 'b')));
      if (i % 40 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(work);
    await a.close();
    await b.close();
    const report = await trail().verify();
    assert.equal(report.ok, true, JSON.stringify(report.problems.slice(0, 3)));
    assert.equal(report.entries, 800);
    assert.equal(report.lastSeq, 800);
  });

  it('a new appender continues after the existing tail', async () => {
    const a = await seeded(10);
    await a.close();
    const b = trail();
    await b.record(input(99));
    await b.close();
    const r = await b.verify();
    assert.equal(r.ok, true);
    assert.equal(r.lastSeq, 11);
  });

  it('a fresh appender whose hint is behind steps over the blocks it did not know about', async () => {
    const a = await seeded(10);
    await a.close();
    const b = trail({ appenderId: 'b' });
    await Promise.all(Array.from({ length: 5 }, (_, i) => b.record(input(20 + i, 'b'))));
    await b.flush();
    await conn.collection('audit_heads').deleteOne({ _id: 'b' } as never);
    const c = trail();
    await c.record(input(30, 'c'));
    await c.flush();
    const blocks = await storedBlocks(c);
    assert.deepEqual(blocks.map((x) => [x.first, x.lines.length]), [[1, 10], [11, 5], [16, 1]]);
    const r = await c.verify();
    assert.equal(r.ok, true, JSON.stringify(r.first));
    assert.equal(r.lastSeq, 16);
  });

  it('under a steady stream of entries, flushes (one insert each) start at least flushIntervalMs apart', async () => {
    const a = trail({ flushMs: 5, flushIntervalMs: 60 });
    const started = Date.now();
    const work: Promise<void>[] = [];
    while (Date.now() - started < 400) {
      work.push(a.record(input(work.length)));
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(work);
    const elapsed = Date.now() - started;
    const blocks = await storedBlocks(a);
    assert.equal(blocks.reduce((n, b) => n + b.lines.length, 0), work.length);
    // With 5 ms windows alone this would be ~elapsed/7 inserts.
    assert.ok(blocks.length <= Math.ceil(elapsed / 60) + 1, `${blocks.length} inserts in ${elapsed} ms`);
  });

  it('rejects malformed input instead of storing it', async () => {
    const a = trail();
    await assert.rejects(a.record({ ...input(1), action: 'Drop Table' }), /action/);
    await assert.rejects(a.record({ ...input(1), outcome: 'maybe' as never }), /outcome/);
    await assert.rejects(a.record({ ...input(1), actor: '' }), /actor/);
  });

  it('catches an entry changed directly in the database', async () => {
    const a = await seeded(30);
    const b = await blockOf(a, 12);
    const e = JSON.parse(b.lines[b.index]!) as AuditEntry;
    e.outcome = 'denied';
    b.lines[b.index] = canonicalJson(e);
    await rewriteBlock(a, b);
    const r = await a.verify();
    assert.equal(r.ok, false);
    assert.deepEqual([r.first?.kind, r.first?.seq], ['altered', 12]);
  });

  it('catches a change whose own hash was recomputed (the next entry no longer chains to it)', async () => {
    const a = await seeded(30);
    const b = await blockOf(a, 7);
    const e = JSON.parse(b.lines[b.index]!) as AuditEntry;
    e.actor = 'someone.else';
    b.lines[b.index] = canonicalJson(e);
    b.hashes[b.index] = sha256Hex(b.lines[b.index]!);
    await rewriteBlock(a, b, { actor: ['zhang.wei', 'someone.else'] });
    const r = await a.verify();
    assert.deepEqual([r.first?.kind, r.first?.seq], ['chain_broken', 7]);
  });

  it('catches a searchable copy changed to hide an actor from filtered lists', async () => {
    const a = await seeded(10);
    await a.blocks.collection.updateOne({ _id: seqId(1) } as never, { $set: { actor: ['someone.else'] } });
    assert.equal((await a.list({ actor: 'zhang.wei' })).length, 0);
    const r = await a.verify();
    assert.deepEqual([r.first?.kind, r.first?.seq], ['altered', 1]);
  });

  it('catches a deleted entry, inside a block and as a whole block', async () => {
    const a = trail({ maxBatch: 10 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.record(input(i))));
    await a.checkpoint();
    assert.deepEqual((await storedBlocks(a)).map((x) => [x.first, x.lines.length]), [[1, 10], [11, 10], [21, 10]]);
    const b = await blockOf(a, 25);
    b.lines.splice(b.index, 1);
    b.hashes.splice(b.index, 1);
    await rewriteBlock(a, b);
    let r = await a.verify();
    assert.deepEqual([r.first?.kind, r.first?.seq], ['missing', 25]);
    await a.blocks.collection.deleteOne({ _id: seqId(11) } as never);
    r = await a.verify();
    assert.deepEqual([r.first?.kind, r.first?.seq], ['missing', 11]);
    assert.ok(r.problems.some((p) => p.kind === 'missing' && p.seq === 20));
  });

  it('catches a cut-back tail below a signed checkpoint', async () => {
    const a = await seeded(30);
    const b = await blockOf(a, 30);
    b.lines.splice(b.index - 1, 2);
    b.hashes.splice(b.index - 1, 2);
    await rewriteBlock(a, b);
    const r = await a.verify();
    assert.equal(r.ok, false);
    assert.ok(r.problems.some((p) => p.kind === 'missing' && p.seq === 30), JSON.stringify(r.problems));
  });

  it('catches an inserted entry: a stray document, a line slipped into a block, and a renumbered, fully re-hashed chain', async () => {
    const a = await seeded(20);
    const forged = { seq: 10, at: new Date().toISOString(), actor: 'x', role: null, ip: null, action: 'item.read', object: null, outcome: 'success', details: {}, prev: 'f'.repeat(64) };
    await a.blocks.collection.insertOne({ _id: `${seqId(10)}a`, e: canonicalJson(forged), h: sha256Hex(canonicalJson(forged)), actor: ['x'], action: ['item.read'], at: [new Date(), new Date()] } as never);
    let r = await a.verify();
    assert.deepEqual([r.first?.kind, r.first?.id], ['inserted', `${seqId(10)}a`]);
    await a.blocks.collection.deleteOne({ _id: `${seqId(10)}a` } as never);

    // A forged entry after entry 10, claiming its seq and chained to its predecessor, hash and all.
    const b = await blockOf(a, 10);
    const original = b.doc;
    const tenth = JSON.parse(b.lines[b.index]!) as AuditEntry;
    const slipped = canonicalJson({ ...tenth, actor: 'zhang.wei', details: { planted: true } });
    b.lines.splice(b.index + 1, 0, slipped);
    b.hashes.splice(b.index + 1, 0, sha256Hex(slipped));
    await rewriteBlock(a, b);
    r = await a.verify();
    assert.deepEqual([r.first?.kind, r.first?.seq], ['inserted', 10]);
    await a.blocks.collection.replaceOne({ _id: original._id } as never, original);
    assert.equal((await a.verify()).ok, true);

    // The careful forger: insert at 10, shift 10..20 up by one, recompute every hash after it.
    const entries = (await storedBlocks(a)).flatMap((x) => x.lines).map((l) => JSON.parse(l) as AuditEntry);
    const rewritten: AuditEntry[] = [...entries.slice(0, 9), { ...entries[9]!, actor: 'forger', details: { planted: true } }, ...entries.slice(9)];
    await a.blocks.collection.deleteMany({});
    let prev = '0'.repeat(64);
    for (const [i, e] of rewritten.entries()) {
      const ne = { ...e, seq: i + 1, prev };
      const ce = canonicalJson(ne);
      prev = sha256Hex(ce);
      await a.blocks.collection.insertOne({ _id: seqId(i + 1), e: ce, h: prev, actor: [ne.actor], action: [ne.action], at: [new Date(ne.at), new Date(ne.at)] } as never);
    }
    r = await a.verify();
    assert.equal(r.ok, false);
    assert.deepEqual([r.first?.kind, r.first?.seq], ['checkpoint_mismatch', 20]);
  });

  it('reads a trail stored one document per entry (the format before blocks) and appends after it', async () => {
    let prev = '0'.repeat(64);
    for (let seq = 1; seq <= 5; seq++) {
      const at = new Date(Date.now() - 1000 + seq);
      const e: AuditEntry = { seq, at: at.toISOString(), actor: seq % 2 ? 'li.na' : 'wang.fang', role: 'archivist', ip: null, action: 'item.read', object: null, outcome: 'success', details: {}, prev };
      const ce = canonicalJson(e);
      prev = sha256Hex(ce);
      await conn.collection('audit_entries').insertOne({ _id: seqId(seq), e: ce, h: prev, actor: e.actor, action: e.action, at } as never);
    }
    const a = trail();
    await a.record(input(6, 'li.na'));
    await a.close();
    const r = await a.verify();
    assert.equal(r.ok, true, JSON.stringify(r.first));
    assert.equal(r.lastSeq, 6);
    assert.deepEqual((await a.list({ actor: 'li.na' })).map((e) => [e.seq, e.suspect]), [[6, false], [5, false], [3, false], [1, false]]);
  });

  it('catches a forged checkpoint signature', async () => {
    const a = await seeded(5);
    await a.checkpoints.collection.updateOne({ _id: seqId(5) } as never, { $set: { hash: 'a'.repeat(64) } });
    const r = await a.verify();
    assert.equal(r.first?.kind, 'bad_signature');
  });

  it('checkpoints automatically every N entries', async () => {
    const a = trail({ checkpointEvery: 10, maxBatch: 10 });
    for (let i = 0; i < 35; i++) await a.record(input(i));
    const cps = await a.checkpoints.find({}).lean();
    assert.ok(cps.length >= 3, `only ${cps.length} checkpoints`);
    const r = await a.verify();
    assert.equal(r.ok, true);
  });

  it('lists newest first with filters by user, action and time', async () => {
    const a = trail();
    const t0 = new Date();
    await Promise.all([a.record(input(1, 'li.na')), a.record(input(2, 'wang.fang')), a.record(input(3, 'li.na')), a.record(input(4, 'li.na'))]);
    const mine = await a.list({ actor: 'li.na' });
    assert.deepEqual(mine.map((e) => e.seq), [4, 3, 1]);
    assert.deepEqual((await a.list({ actor: 'li.na', limit: 2 })).map((e) => e.seq), [4, 3]);
    assert.ok(mine.every((e) => !e.suspect));
    assert.deepEqual((await a.list({ actor: 'li.na', action: 'item.read' })).map((e) => e.seq), [3, 1]);
    assert.equal((await a.list({ since: new Date(t0.getTime() - 1000) })).length, 4);
    assert.equal((await a.list({ since: new Date(Date.now() + 60_000) })).length, 0);
    assert.equal(mine[0]!.details.备注, '测试');
  });

  it('lists across blocks, newest first, and filters blocks by time', async () => {
    const a = trail({ maxBatch: 3 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => a.record(input(i, i % 2 ? 'li.na' : 'wang.fang'))));
    await a.flush();
    const t1 = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await a.record(input(10, 'li.na'));
    assert.ok((await storedBlocks(a)).length >= 4);
    assert.deepEqual((await a.list({ actor: 'li.na' })).map((e) => e.seq), [11, 10, 8, 6, 4, 2]);
    assert.deepEqual((await a.list({ since: t1 })).map((e) => e.seq), [11]);
    assert.deepEqual((await a.list({ until: t1, limit: 4 })).map((e) => e.seq), [10, 9, 8, 7]);
    assert.equal((await a.verify()).ok, true);
  });
});
