/**
 * `archive backup` / `archive restore` (数据备份、故障恢复、异地存储; GB/T 18894-2016 and the
 * 档案法实施条例 call for backups including off-site ones; docs/operations.md).
 *
 * A backup has three parts, kept in two places:
 *   1. the database: every collection as gzip'd Extended JSON lines, under db/<backupId>/ on the target;
 *   2. the object store: mirrored raw, as stored (ciphertext, key records wrapped by KEKs, tombstones),
 *      under blobs/ on the target: incremental (only objects whose ETag changed are copied), shared by
 *      every backup; objects crypto-shredded in the archive are removed from the mirror too, so a
 *      destruction is not undone by its backups (机关档案管理规定: destroyed electronic archives must not
 *      be recoverable, backups included);
 *   3. the keystore (KEKs, passphrase-protected) and the audit signing key: to a DIFFERENT place
 *      (`--keys-to`), never beside the data. Whoever holds a data backup must not also hold what opens
 *      it: the object mirror is ciphertext whose data keys are wrapped by the KEKs, so a stolen or
 *      off-site data backup alone discloses nothing, and a stolen key backup alone holds no archive.
 *      The keystore passphrase is in neither: it lives in the operator's secret store.
 *
 * Consistency without transactions (FerretDB 1.24 has none): collections are dumped in an order in
 * which every reference in the dump points at something dumped later or written before it —
 * items before the 件号 rows and jobs (an item's 档号 is issued before the item row names it), the
 * search log before its segments, the whole database before the object mirror (objects are written
 * before any row names them). The audit trail is dumped last and cut at its last contiguous block,
 * with only the checkpoints and head hints inside that prefix, so the restored chain verifies. What
 * happened during the dump is either wholly in it or re-done after restore by fsck --repair (an
 * item caught mid-pipeline is re-enqueued).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createGunzip, createGzip } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../../config';
import { connectDb, isDuplicateKey } from '../../db';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { signingPaths } from '../audit';
import { openRun } from './common';
import { runFsck, type FsckReport } from './fsck';
import { openTarget, rawBucket, type BackupTarget } from './backup-target';
import { reapplyDestructions } from '../disposition';

const EJSON = mongoose.mongo.BSON.EJSON;

/** Presence and claim tokens: meaningless after a restore (a restored claim token could block its job forever). */
const SKIPPED = new Set(['workers', 'job_claims', 'readiness_probe']);
/** Dump order (see the file comment); collections not named go between FIRST and LAST. */
const FIRST = ['search_meta', 'items', 'search_log'];
const LAST = ['archival_numbers', 'jobs', 'search_segments', 'search_chunks', 'integrity_runs'];
const AUDIT = ['audit_entries', 'audit_checkpoints', 'audit_heads'];
const KEYRING_SKIP = new Set(['passphrase.local']);
/**
 * Append-only registers a restore also takes from every NEWER backup at the location: restoring an
 * older snapshot must not forget a destruction recorded since (the disposition room's permanent
 * 销毁 register, re-applied after restore). Entries are keyed by _id, so taking them twice is a no-op.
 */
const CARRIED_FORWARD = ['destruction_register'];

export interface BackupManifest {
  format: 'si-archive-backup/1';
  id: string;
  startedAt: string;
  finishedAt: string;
  fonds: string;
  collections: Record<string, { docs: number; sha256: string; file: string }>;
  audit: { lastSeq: number; blocks: number };
  objects: { total: number; copied: number; removed: number; bytesCopied: number };
  keys: { location: string; files: number } | null;
}

export interface BackupOptions {
  to: string;
  keysTo?: string;
  /** keep the newest N database snapshots on the target (0 = keep all) */
  keep?: number;
  actor?: string;
  role?: string;
  onProgress?: (line: string) => void;
}

function backupId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

function sameLocation(a: string, b: string): boolean {
  const norm = (s: string) => s.replace(/^file:\/\//, '').replace(/\/\/[^@/]*@/, '//').replace(/\/+$/, '');
  const x = norm(a);
  const y = norm(b);
  return x === y || x.startsWith(`${y}/`) || y.startsWith(`${x}/`);
}

async function dumpCollection(conn: Connection, name: string, target: BackupTarget, file: string, filter: Record<string, unknown> = {}, sort?: Record<string, 1>): Promise<{ docs: number; sha256: string }> {
  const hash = createHash('sha256');
  const gz = createGzip();
  const out = new PassThrough();
  gz.pipe(out);
  const upload = target.put(file, out);
  let docs = 0;
  const cursor = conn.db!.collection(name).find(filter, sort ? { sort } : {});
  for await (const doc of cursor) {
    const line = `${EJSON.stringify(doc, { relaxed: false })}\n`;
    hash.update(line);
    if (!gz.write(line)) await new Promise((r) => gz.once('drain', r));
    docs++;
  }
  gz.end();
  await upload;
  return { docs, sha256: hash.digest('hex') };
}

/** The audit chain's contiguous prefix: the blocks in seq order until the first hole. */
async function auditPrefix(conn: Connection): Promise<{ lastSeq: number; blockIds: string[] }> {
  const ids: string[] = [];
  let expected = 1;
  for await (const b of conn.db!.collection<{ _id: string; e: string }>('audit_entries').find({}, { projection: { _id: 1, e: 1 }, sort: { _id: 1 } })) {
    const first = Number(b._id);
    if (!Number.isInteger(first) || first !== expected) break;
    ids.push(b._id);
    expected = first + String(b.e).split('\n').length;
  }
  return { lastSeq: expected - 1, blockIds: ids };
}

/** Mirrors the archive's bucket raw onto target/blobs/, incrementally. */
async function mirrorObjects(config: Config, target: BackupTarget, onProgress?: (l: string) => void): Promise<BackupManifest['objects']> {
  const source = rawBucket({ ...config.minio });
  const manifestName = 'blobs/.manifest.json';
  const prev = await target.get(manifestName);
  const known: Record<string, string> = prev ? (JSON.parse((await buffer(prev)).toString('utf8')) as Record<string, string>) : {};
  const seen = new Set<string>();
  const tombstones = new Set<string>();
  const stats = { total: 0, copied: 0, removed: 0, bytesCopied: 0 };
  for await (const o of source.list('')) {
    seen.add(o.name);
    stats.total++;
    if (o.name.startsWith('tombstones/')) tombstones.add(o.name.slice('tombstones/'.length));
    if (known[o.name] === o.etag) continue;
    const body = await source.get(o.name);
    if (!body) continue; // removed meanwhile
    await target.put(`blobs/${o.name}`, body, o.size);
    known[o.name] = o.etag;
    stats.copied++;
    stats.bytesCopied += o.size;
    if (stats.copied % 200 === 0) {
      onProgress?.(`… ${stats.copied} objects copied`);
      await target.put(manifestName, Buffer.from(JSON.stringify(known)));
    }
  }
  // Shredded since the last backup: the mirror must not keep what the archive destroyed.
  for (const name of Object.keys(known)) {
    if (seen.has(name)) continue;
    const key = name.replace(/^(objects|keys)\//, '');
    if (key !== name && tombstones.has(key)) {
      await target.remove(`blobs/${name}`);
      delete known[name];
      stats.removed++;
    }
  }
  await target.put(manifestName, Buffer.from(JSON.stringify(known)));
  return stats;
}

function keyFiles(config: Config): Array<{ from: string; as: string }> {
  const out: Array<{ from: string; as: string }> = [];
  if (fs.existsSync(config.keystore.dir)) {
    for (const f of fs.readdirSync(config.keystore.dir)) {
      const full = path.join(config.keystore.dir, f);
      if (KEYRING_SKIP.has(f) || !fs.statSync(full).isFile() || f.startsWith('audit-signing.')) continue;
      out.push({ from: full, as: `keystore/${f}` });
    }
  }
  const sign = signingPaths(config.dataDir);
  for (const f of [sign.key, sign.cert]) if (fs.existsSync(f)) out.push({ from: f, as: `audit-signing/${path.basename(f)}` });
  return out;
}

export async function backup(rt: Runtime, opts: BackupOptions): Promise<BackupManifest> {
  if (opts.keysTo && sameLocation(opts.to, opts.keysTo)) {
    throw new AppError('validation_failed', {
      message: 'The keystore backup must not go to the same place as the data backup (keys and data are never kept together)',
      zh: '密钥备份不得与数据备份存放在同一位置（密钥与数据必须分开保存）',
    });
  }
  const target = await openTarget(opts.to);
  const id = backupId();
  const startedAt = new Date();
  const run = await openRun(rt.db, 'backup', { trigger: 'manual', actor: opts.actor ?? 'system', options: { to: target.label, keys: !!opts.keysTo, keep: opts.keep ?? 0 } });
  const log = opts.onProgress ?? (() => undefined);
  try {
    await rt.audit.flush();
    const names = (await rt.db.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !SKIPPED.has(n) && !n.startsWith('system.'));
    const middle = names.filter((n) => !FIRST.includes(n) && !LAST.includes(n) && !AUDIT.includes(n)).sort();
    const order = [...FIRST.filter((n) => names.includes(n)), ...middle, ...LAST.filter((n) => names.includes(n))];
    const collections: BackupManifest['collections'] = {};
    for (const name of order) {
      const file = `db/${id}/${name}.jsonl.gz`;
      // This run's own record says "running": it does not belong in the snapshot.
      const filter = name === 'integrity_runs' ? { _id: { $ne: run.doc._id } } : {};
      collections[name] = { ...(await dumpCollection(rt.db, name, target, file, filter)), file };
      log(`${name}: ${collections[name].docs} documents`);
    }
    const prefix = await auditPrefix(rt.db);
    if (names.includes('audit_entries')) {
      const file = `db/${id}/audit_entries.jsonl.gz`;
      collections.audit_entries = { ...(await dumpCollection(rt.db, 'audit_entries', target, file, { _id: { $in: prefix.blockIds } }, { _id: 1 })), file };
      for (const name of ['audit_checkpoints', 'audit_heads']) {
        if (!names.includes(name)) continue;
        const f = `db/${id}/${name}.jsonl.gz`;
        collections[name] = { ...(await dumpCollection(rt.db, name, target, f, { seq: { $lte: prefix.lastSeq } })), file: f };
      }
      log(`audit trail: ${prefix.lastSeq} entries`);
    }
    const objects = await mirrorObjects(rt.config, target, log);
    log(`objects: ${objects.copied} copied, ${objects.removed} removed (shredded), ${objects.total} in the archive`);
    let keys: BackupManifest['keys'] = null;
    if (opts.keysTo) {
      const keyTarget = await openTarget(opts.keysTo);
      const files = keyFiles(rt.config);
      for (const f of files) await keyTarget.put(`${id}/${f.as}`, await fs.promises.readFile(f.from));
      keys = { location: keyTarget.label, files: files.length };
      log(`keystore: ${files.length} files to ${keyTarget.label}`);
    }
    const manifest: BackupManifest = {
      format: 'si-archive-backup/1',
      id,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      fonds: rt.config.fonds,
      collections,
      audit: { lastSeq: prefix.lastSeq, blocks: prefix.blockIds.length },
      objects,
      keys,
    };
    // Written last: a snapshot without its manifest is incomplete and never offered for restore.
    await target.put(`db/${id}/manifest.json`, Buffer.from(JSON.stringify(manifest, null, 2)));
    if (opts.keep && opts.keep > 0) await prune(target, opts.keep, log);
    await run.finish(true, { id, target: target.label, ...manifest.objects, auditLastSeq: manifest.audit.lastSeq, keys: !!keys });
    await rt.audit.record({ actor: opts.actor ?? 'system', role: opts.role ?? 'system', action: 'system.backup', object: { type: 'backup', id }, outcome: 'success', details: { target: target.label, objectsCopied: objects.copied, keysTo: keys?.location ?? null } });
    return manifest;
  } catch (err) {
    await run.finish(false, null, `${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`).catch(() => undefined);
    await rt.audit.record({ actor: opts.actor ?? 'system', role: opts.role ?? 'system', action: 'system.backup', object: { type: 'backup', id }, outcome: 'failure', details: { target: target.label, error: (err as Error).message } }).catch(() => undefined);
    throw err;
  }
}

export async function listBackups(target: BackupTarget): Promise<BackupManifest[]> {
  const out: BackupManifest[] = [];
  for await (const e of target.list('db/')) {
    if (!e.name.endsWith('/manifest.json')) continue;
    const s = await target.get(e.name);
    if (s) out.push(JSON.parse((await buffer(s)).toString('utf8')) as BackupManifest);
  }
  return out.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

async function prune(target: BackupTarget, keep: number, log: (l: string) => void): Promise<void> {
  const all = await listBackups(target);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) {
    for await (const e of target.list(`db/${old.id}/`)) if (!e.name.endsWith('manifest.json')) await target.remove(e.name);
    await target.remove(`db/${old.id}/manifest.json`);
    log(`pruned backup ${old.id}`);
  }
}

export interface RestoreOptions {
  from: string;
  /** backup id, default the newest */
  backupId?: string;
  /** where the keystore backup is (required unless the keystore is already in place) */
  keysFrom?: string;
  /** replace a non-empty database / existing keystore */
  force?: boolean;
  onProgress?: (line: string) => void;
}

export interface RestoreResult {
  backupId: string;
  collections: Record<string, number>;
  /** register entries taken from newer backups (CARRIED_FORWARD) */
  carriedForward: number;
  objects: number;
  keys: number;
  ms: number;
}

/**
 * Restores into fresh services, before any Runtime is opened (a Runtime would create a new
 * keystore and write to the database): keystore files, then the database, then the objects. The
 * caller then opens a Runtime and runs afterRestore().
 */
export async function restore(config: Config, opts: RestoreOptions): Promise<RestoreResult> {
  const started = Date.now();
  const log = opts.onProgress ?? (() => undefined);
  const target = await openTarget(opts.from);
  const backups = await listBackups(target);
  const manifest = opts.backupId ? backups.find((b) => b.id === opts.backupId) : backups.at(-1);
  if (!manifest) {
    throw new AppError('not_found', { message: `No complete backup ${opts.backupId ?? ''} at ${target.label}`, zh: `在 ${target.label} 找不到完整的备份 ${opts.backupId ?? ''}` });
  }
  log(`restoring backup ${manifest.id} (taken ${manifest.startedAt}) from ${target.label}`);

  // 1. keys
  let keys = 0;
  const keyringFile = path.join(config.keystore.dir, 'keyring.json');
  if (opts.keysFrom) {
    if (fs.existsSync(keyringFile) && !opts.force) {
      throw new AppError('conflict', { message: `A keystore already exists in ${config.keystore.dir}; move it away or pass --force`, zh: `${config.keystore.dir} 已有密钥库；请先移走或使用 --force` });
    }
    const keyTarget = await openTarget(opts.keysFrom);
    const sign = signingPaths(config.dataDir);
    for await (const e of keyTarget.list(`${manifest.id}/`)) {
      const rel = e.name.slice(manifest.id.length + 1);
      const dest = rel.startsWith('keystore/') ? path.join(config.keystore.dir, rel.slice('keystore/'.length)) : rel.startsWith('audit-signing/') ? path.join(path.dirname(sign.key), rel.slice('audit-signing/'.length)) : null;
      if (!dest) continue;
      fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
      fs.writeFileSync(dest, await buffer((await keyTarget.get(e.name))!), { mode: 0o600 });
      keys++;
    }
    if (!keys) throw new AppError('not_found', { message: `No keystore backup for ${manifest.id} at ${keyTarget.label}`, zh: `在 ${keyTarget.label} 找不到备份 ${manifest.id} 的密钥库` });
    log(`keystore: ${keys} files`);
  } else if (!fs.existsSync(keyringFile)) {
    throw new AppError('validation_failed', { message: 'No keystore in place: pass --keys-from with the keystore backup', zh: '本机没有密钥库：请用 --keys-from 指定密钥备份位置' });
  }

  // 2. database
  const conn = await connectDb(config.mongo.uri, { timeoutMs: config.mongo.connectTimeoutMs });
  const collections: Record<string, number> = {};
  let carriedForward = 0;
  try {
    const existing = await conn.db!.collection('items').estimatedDocumentCount().catch(() => 0);
    if (existing > 0 && !opts.force) {
      throw new AppError('conflict', { message: `The database already holds ${existing} items; restore only into an empty database (or pass --force to replace it)`, zh: `数据库中已有 ${existing} 个条目；只能恢复到空数据库（或使用 --force 覆盖）` });
    }
    await conn.dropDatabase();
    for (const [name, c] of Object.entries(manifest.collections)) {
      const s = await target.get(c.file);
      if (!s) throw new AppError('integrity_error', { message: `backup ${manifest.id} lacks ${c.file}` });
      const hash = createHash('sha256');
      const coll = conn.db!.collection(name);
      let batch: Record<string, unknown>[] = [];
      let n = 0;
      for await (const line of createInterface({ input: s.pipe(createGunzip()), crlfDelay: Infinity })) {
        if (!line) continue;
        hash.update(`${line}\n`);
        batch.push(EJSON.parse(line, { relaxed: false }) as Record<string, unknown>);
        if (batch.length >= 500) {
          await coll.insertMany(batch, { ordered: false });
          n += batch.length;
          batch = [];
        }
      }
      if (batch.length) await coll.insertMany(batch, { ordered: false });
      n += batch.length;
      if (n === 0) await conn.db!.createCollection(name).catch(() => undefined);
      if (hash.digest('hex') !== c.sha256 || n !== c.docs) {
        throw new AppError('integrity_error', { message: `backup ${manifest.id}: ${name} does not match its manifest (${n} of ${c.docs} documents)`, zh: `备份 ${manifest.id} 的 ${name} 与清单不符` });
      }
      collections[name] = n;
      log(`${name}: ${n} documents`);
    }
    // Registers recorded after this snapshot, from the newer backups.
    for (const newer of backups.filter((b) => b.startedAt > manifest.startedAt)) {
      for (const name of CARRIED_FORWARD) {
        const c = newer.collections[name];
        if (!c) continue;
        const s = await target.get(c.file);
        if (!s) continue;
        for await (const line of createInterface({ input: s.pipe(createGunzip()), crlfDelay: Infinity })) {
          if (!line) continue;
          try {
            await conn.db!.collection(name).insertOne(EJSON.parse(line, { relaxed: false }) as Record<string, unknown>);
            carriedForward++;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
        }
      }
    }
    if (carriedForward) log(`registers: ${carriedForward} entries recorded after this backup, taken from newer backups`);
  } finally {
    await conn.close().catch(() => undefined);
  }

  // 3. objects, raw as backed up
  const bucket = rawBucket({ ...config.minio });
  await bucket.ensure();
  let objects = 0;
  for await (const e of target.list('blobs/')) {
    if (e.name === 'blobs/.manifest.json') continue;
    const s = await target.get(e.name);
    if (!s) continue;
    await bucket.put(e.name.slice('blobs/'.length), s, e.size);
    objects++;
    if (objects % 500 === 0) log(`… ${objects} objects`);
  }
  log(`objects: ${objects}`);
  return { backupId: manifest.id, collections, carriedForward, objects, keys, ms: Date.now() - started };
}

/**
 * Items destroyed after the backup was taken must stay destroyed: the disposition room's
 * reapplyDestructions(rt) replays its permanent register (kept in the database and, per entry, as
 * an object beside the blobs, so an older database snapshot does not forget it). Tests may install
 * another replay with useDestructionReplay.
 */
export type DestructionReplay = (rt: Runtime) => Promise<{ reapplied: number } | number | void>;
let destructionReplay: DestructionReplay | null = null;

export function useDestructionReplay(fn: DestructionReplay | null): void {
  destructionReplay = fn;
}

export async function reapplyDestructionsHook(rt: Runtime): Promise<{ reapplied: number | null }> {
  // The disposition room's register replay unless a test installs another.
  const r = await (destructionReplay ?? reapplyDestructions)(rt);
  return { reapplied: typeof r === 'number' ? r : r && typeof r === 'object' ? r.reapplied : 0 };
}

/**
 * After restore(), in a Runtime on the restored services: destructions since the backup are
 * re-applied, then fsck repairs what the backup caught half-done (re-enqueue, reindex) and reports
 * the rest. Audited as system.restore.
 */
export async function afterRestore(rt: Runtime, restored: RestoreResult, opts: { actor?: string; role?: string; onProgress?: (l: string) => void } = {}): Promise<{ reapplied: number | null; fsck: FsckReport }> {
  const log = opts.onProgress ?? (() => undefined);
  const { reapplied } = await reapplyDestructionsHook(rt);
  log(reapplied === null ? 'destruction register: no replay hook installed (disposition not on this build)' : `destruction register: ${reapplied} destruction(s) re-applied`);
  const fsck = await runFsck(rt, { repair: true, actor: opts.actor ?? 'system', role: opts.role ?? 'system', orphanGraceMs: 24 * 3600_000, stuckAfterMs: 0 });
  log(`fsck after restore: ${fsck.ok ? 'consistent' : `${fsck.findings.filter((f) => !f.repaired).length} open finding(s)`}, ${fsck.repaired} repaired`);
  const run = await openRun(rt.db, 'restore', { trigger: 'restore', actor: opts.actor ?? 'system', options: {} });
  await run.finish(fsck.ok, { backupId: restored.backupId, objects: restored.objects, collections: restored.collections, ms: restored.ms, reapplied, fsckRun: fsck.runId });
  await rt.audit.record({ actor: opts.actor ?? 'system', role: opts.role ?? 'system', action: 'system.restore', object: { type: 'backup', id: restored.backupId }, outcome: fsck.ok ? 'success' : 'failure', details: { objects: restored.objects, reapplied, fsckRun: fsck.runId, repaired: fsck.repaired } });
  return { reapplied, fsck };
}
