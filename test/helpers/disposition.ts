/**
 * Helpers for the disposition specs: due items with real blobs (original, page image, page text,
 * searchable PDF) in the test MinIO and in the search index, accounts of every role in the chain
 * with a TOTP secret, and fresh TOTP codes (each code is spent once, so a helper hands out the
 * codes of the previous, current and next windows and waits for the next one when they are used up).
 */
import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { itemModel, type ItemDoc, type ItemStatus } from '../../src/models/item.model';
import { buildItem } from './factories';
import type { Runtime } from '../../src/runtime';
import { newTotpSecret, toPrincipal, type Principal } from '../../src/services/access';
import { totp } from '../../src/services/access/totp';
import { newOriginalKey, pageKeys } from '../../src/services/records';
import { indexItem } from '../../src/services/search';

export interface DueItemSpec {
  fonds?: string;
  title?: string;
  documentDate?: string;
  retention?: string;
  dueOn?: string | null;
  provisional?: boolean;
  category?: string;
  archivalClass?: string;
  personIds?: string[];
  status?: ItemStatus;
  index?: boolean;
}

let seq = 0;

/** A filed item whose appraisal date has passed (by default), with four blobs and indexed for search. */
export async function makeDueItem(rt: Runtime, spec: DueItemSpec = {}): Promise<string> {
  const n = ++seq;
  const originalKey = newOriginalKey();
  const original = await rt.storage.blobs.put(originalKey, Buffer.from(`scan bytes of item ${n} ${randomUUID()}`));
  const doc = await buildItem(rt, {
    fonds: spec.fonds ?? 'Z001',
    status: spec.status ?? 'filed',
    originals: [{ blobKey: originalKey, filename: `${n}.png`, format: 'png', size: original.size, sha256: original.sha256 }] as unknown as ItemDoc['originals'],
    pageCount: 1,
    title: spec.title ?? `失业保险待遇核定表 第${n}号`,
    documentDate: spec.documentDate ?? '2010-05-03',
    archivalCode: `Z001-SB·2010-D10-SY·DY-${String(n).padStart(4, '0')}`,
    archivalClass: spec.archivalClass ?? 'Z001-SB·2010-D10-SY·DY',
    personIds: spec.personIds ?? [],
    classification: { category: spec.category ?? '5', item: '5-3', retention: spec.retention ?? 'D10', dueOn: spec.dueOn === undefined ? '2021-01-01' : spec.dueOn, provisional: spec.provisional ?? false },
  });
  const id = String(doc._id);
  const imageKey = pageKeys.image(id, 1, 'png');
  const textKey = pageKeys.text(id, 1);
  // A real (small) image: an item's page, thumbnail and viewer must open in the browser specs.
  await rt.storage.blobs.put(imageKey, await sharp({ create: { width: 60, height: 84, channels: 3, background: { r: 250, g: 250, b: 250 - (n % 8) } } }).png().toBuffer());
  await rt.storage.blobs.put(textKey, Buffer.from(JSON.stringify({ text: `失业保险金申领 核定 第${n}号 销毁测试`, confidence: 90, lines: [] })));
  await rt.storage.blobs.put(pageKeys.pdf(id), Buffer.from(`%PDF-1.4 item ${n}`));
  await rt.storage.blobs.put(`${pageKeys.prefix(id)}thumbs/1.jpg`, Buffer.from(`thumb ${n}`));
  await itemModel(rt.db).updateOne({ _id: doc._id }, { $set: { pages: [{ n: 1, source: 0, imageKey, textKey }], pdfKey: pageKeys.pdf(id) } });
  if (spec.index !== false) await indexItem(rt, id);
  return id;
}

/** Every blob key of an item that can still be read (should be none after destruction). */
export async function readableBlobs(rt: Runtime, keys: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const k of keys) if (await rt.storage.blobs.getBuffer(k).then(() => true, () => false)) out.push(k);
  return out;
}

export interface Actor {
  p: Principal;
  secret: string;
  code: () => Promise<string>;
}

const used = new Map<string, Set<number>>();

/**
 * The server accepts the previous window's code too (clock drift, src/services/access/totp.ts), but
 * only until the current window ends: it is handed out only while this much of the window is left,
 * ample for a CLI process to start or a browser form to be filled and sent on a loaded machine.
 */
const PAST_WINDOW_MARGIN_MS = 15_000;

/**
 * A fresh TOTP code for the secret, never one handed out before: the previous window's (while
 * enough of the current one is left), the current one's, the next one's — three per 30 s, the
 * soonest to lapse first — and only when all are spent does it wait for the next window.
 */
export async function freshCode(secret: string): Promise<string> {
  const spent = used.get(secret) ?? new Set<number>();
  used.set(secret, spent);
  for (;;) {
    const now = Date.now();
    const step = Math.floor(now / 30_000);
    const left = 30_000 - (now % 30_000);
    for (const d of left >= PAST_WINDOW_MARGIN_MS ? [-1, 0, 1] : [0, 1]) {
      if (!spent.has(step + d)) {
        spent.add(step + d);
        return totp(secret, (step + d) * 30_000 + 1000);
      }
    }
    await new Promise((r) => setTimeout(r, left + 50));
  }
}

/** An account of the role with a TOTP secret; its scope is every fonds unless `fonds` narrows it (an account without a scope sees nothing, #13). */
export async function actor(rt: Runtime, username: string, role: string, opts: { password?: string; fonds?: string[] } = {}): Promise<Actor> {
  const secret = newTotpSecret();
  const u = await rt.auth.createUser({ username, roles: [role], clearance: 'sensitive', totpSecret: secret, ...(opts.password ? { password: opts.password } : {}), scope: { fonds: opts.fonds ?? '*', agencies: '*', districts: '*' } });
  return { p: toPrincipal(u), secret, code: () => freshCode(secret) };
}
