/**
 * A person's or a unit's file (一人一档 / 一户一档) without a scan of the items: a link store keyed
 * by the blind key of the 公民身份号码 / 统一社会信用代码 (models/item-codec.ts, never the clear
 * number). One document per key, `{ _id: "person:<blind key>", rows: { <itemId>: row } }`, each
 * row carrying what the file lists (title, 档号, date, type, status) and what scope checks need
 * (fonds, access level); opening a file is one read by `_id`.
 *
 * Every write that changes an item's persons, units, description, status or access level calls
 * linkItem(rt, item) with the item as it now is (filing, correction, access-level change, sealing
 * legacy items; the disposition and withdrawal code call linkItem / unlinkItem the same way);
 * `archive reindex` rebuilds the store from the items (rebuildDossierLinks). A per-item document
 * lists the keys written for the item, so a correction that drops a person removes exactly that row.
 *
 * FerretDB 1.24 on SQLite never uses an index to answer a query (EXPLAIN shows SCAN for every
 * find) and pushes down only `_id` equality, which SQLite then tests per row in C, cheaply; any
 * other filter decodes every document in Go. Hence: reads by `_id` only, and on FerretDB the
 * documents spread over LINK_BUCKETS collections by a hash of the key (~70 documents per bucket
 * at 1M items), so a read scans a small table (bench/dossier.ts). On MongoDB one collection.
 * Updating a key's document is a read-modify-write, which FerretDB does not make atomic: a writer
 * first takes the key's lock by a unique insert into `dossier_locks` (the house pattern, see
 * docs/ARCHITECTURE.md), so two items of one person filed at once cannot lose each other's row.
 */
import { createHash } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import type { Collection, Connection } from 'mongoose';
import { blindKeyFor, type BlindField } from '../../models/item-codec';
import type { ItemDoc } from '../../models/item.model';
import { itemModel } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel, STATUS } from './status';

/** Items listed in a person's or a unit's file. */
export const DOSSIER_STATUSES: ReadonlySet<string> = STATUS.readable;
/**
 * Buckets on FerretDB (see above): key documents over 4096 collections (~70 per bucket at 1M
 * items), per-item documents (read only on writes) over 1024. One collection each on MongoDB.
 */
export const LINK_BUCKETS = 4096;
const ITEM_BUCKETS = 1024;

export type DossierKind = 'person' | 'unit';
const FIELD: Record<DossierKind, BlindField> = { person: 'personIds', unit: 'unitCodes' };

export interface DossierRow {
  id: string;
  title: string | null;
  archivalCode: string | null;
  documentDate: string | null;
  documentType: string | null;
  status: string;
  fonds: string;
  level: number;
}

interface KeyDoc {
  _id: string;
  rows: Record<string, DossierRow>;
}
interface ItemLinksDoc {
  _id: string;
  links: string[];
}
interface LockDoc {
  _id: string;
  at: Date;
}

interface Layout {
  buckets: number;
  keys: (link: string) => Collection<KeyDoc>;
  items: (itemId: string) => Collection<ItemLinksDoc>;
  locks: Collection<LockDoc>;
  all: () => Promise<string[]>;
}

const layouts = new WeakMap<Connection, Promise<Layout>>();
/** A lock older than this was left by a crashed writer and may be taken over. */
const LOCK_STALE_MS = 30_000;

function bucketOf(s: string, n: number): number {
  return n === 1 ? 0 : createHash('sha1').update(s).digest().readUInt32BE(0) % n;
}

async function isFerret(conn: Connection): Promise<boolean> {
  const info = (await conn.db!.admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
  return typeof info.ferretdbVersion === 'string';
}

/** The store's collections on this connection (decided once: FerretDB or MongoDB). */
export function linkLayout(conn: Connection): Promise<Layout> {
  let p = layouts.get(conn);
  if (!p) {
    p = (async (): Promise<Layout> => {
      const ferret = await isFerret(conn);
      const buckets = ferret ? LINK_BUCKETS : 1;
      const itemBuckets = ferret ? ITEM_BUCKETS : 1;
      const name = (base: string, b: number, n: number) => (n === 1 ? base : `${base}_${b.toString(16).padStart(3, '0')}`);
      return {
        buckets,
        keys: (link) => conn.collection<KeyDoc>(name('dossier_keys', bucketOf(link, buckets), buckets)),
        items: (id) => conn.collection<ItemLinksDoc>(name('dossier_items', bucketOf(id, itemBuckets), itemBuckets)),
        locks: conn.collection<LockDoc>('dossier_locks'),
        all: async () => ((await conn.db!.listCollections({}, { nameOnly: true }).toArray()) as Array<{ name: string }>).map((c) => c.name).filter((n) => /^dossier_(keys|items|locks)(_[0-9a-f]{3})?$/.test(n)),
      };
    })();
    p.catch(() => layouts.delete(conn));
    layouts.set(conn, p);
  }
  return p;
}

/** Runs fn holding the key's lock (a unique insert; a crashed holder's lock goes stale). */
async function withKeyLock<T>(layout: Layout, link: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      await layout.locks.insertOne({ _id: link, at: new Date() });
      break;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const held = await layout.locks.findOne({ _id: link });
      if (held && Date.now() - held.at.getTime() > LOCK_STALE_MS) await layout.locks.deleteOne({ _id: link, at: held.at });
      else await new Promise((r) => setTimeout(r, Math.min(200, 5 * 2 ** Math.min(attempt, 6))));
    }
  }
  try {
    return await fn();
  } finally {
    await layout.locks.deleteOne({ _id: link });
  }
}

/** Sets (row) or removes (null) rows of one key's document, under its lock. */
async function updateKey(layout: Layout, link: string, set: Record<string, DossierRow | null>): Promise<void> {
  await withKeyLock(layout, link, async () => {
    const coll = layout.keys(link);
    const doc = await coll.findOne({ _id: link });
    const rows = { ...(doc?.rows ?? {}) };
    for (const [id, row] of Object.entries(set)) {
      if (row) rows[id] = row;
      else delete rows[id];
    }
    if (Object.keys(rows).length) await coll.replaceOne({ _id: link }, { rows }, { upsert: true });
    else if (doc) await coll.deleteOne({ _id: link });
  });
}

/** The links an item should have now: `person:<blind key>` / `unit:<blind key>`. */
async function wantedLinks(conn: Connection, item: ItemDoc): Promise<string[]> {
  if (!DOSSIER_STATUSES.has(item.status)) return [];
  const out = new Set<string>();
  for (const kind of ['person', 'unit'] as const) {
    for (const v of ((item as Record<string, unknown>)[FIELD[kind]] as string[] | undefined) ?? []) out.add(`${kind}:${await blindKeyFor(conn, FIELD[kind], v)}`);
  }
  return [...out];
}

export function rowOf(item: ItemDoc): DossierRow {
  return {
    id: String(item._id),
    title: item.title ?? null,
    archivalCode: item.archivalCode ?? null,
    documentDate: item.documentDate ?? null,
    documentType: (item.classification as { documentType?: string } | null)?.documentType ?? null,
    status: item.status,
    fonds: item.fonds,
    level: itemLevel(item),
  };
}

async function writeLinks(rt: Runtime, itemId: string, wanted: string[], row: DossierRow | null): Promise<void> {
  const layout = await linkLayout(rt.db);
  const mine = layout.items(itemId);
  const before = (await mine.findOne({ _id: itemId }))?.links ?? [];
  const stale = before.filter((l) => !wanted.includes(l));
  // The per-item document first lists every key that may hold a row of the item, so a crash in
  // between leaves nothing that a later call (or a rebuild) cannot find and remove.
  if (wanted.some((l) => !before.includes(l))) await mine.replaceOne({ _id: itemId }, { links: [...new Set([...before, ...wanted])] }, { upsert: true });
  await Promise.all([...wanted.map((l) => updateKey(layout, l, { [itemId]: row })), ...stale.map((l) => updateKey(layout, l, { [itemId]: null }))]);
  if (wanted.length) {
    if (stale.length) await mine.replaceOne({ _id: itemId }, { links: wanted }, { upsert: true });
  } else if (before.length) await mine.deleteOne({ _id: itemId });
}

/**
 * Brings the item's rows in line with the item as given (read it after your write): in its
 * persons' and units' files while it is filed or in review, in none otherwise. Idempotent; call it
 * after every write that changes an item's persons, units, title, 档号, date, type, status, fonds
 * or access level.
 */
export async function linkItem(rt: Runtime, item: ItemDoc): Promise<void> {
  await writeLinks(rt, String(item._id), await wantedLinks(rt.db, item), rowOf(item));
}

/** Takes an item out of every person's and unit's file (destruction, withdrawal). Idempotent. */
export async function unlinkItem(rt: Runtime, itemId: string): Promise<void> {
  await writeLinks(rt, itemId, [], null);
}

/**
 * A person's (公民身份号码) or unit's (统一社会信用代码) file: its items, oldest first. The caller
 * filters by scope (the rows carry fonds and level). One read by `_id`.
 */
export async function openDossier(rt: Runtime, kind: DossierKind, value: string): Promise<DossierRow[]> {
  const link = `${kind}:${await blindKeyFor(rt.db, FIELD[kind], value)}`;
  const doc = await (await linkLayout(rt.db)).keys(link).findOne({ _id: link });
  return Object.values(doc?.rows ?? {}).sort((a, b) => (a.documentDate ?? '9999').localeCompare(b.documentDate ?? '9999') || (a.archivalCode ?? '').localeCompare(b.archivalCode ?? ''));
}

/**
 * Rebuilds the store from the items (`archive reindex`): drops it, then one pass over the items,
 * writing each key's document once per chunk of CHUNK items.
 */
export async function rebuildDossierLinks(rt: Runtime, opts: { onProgress?: (n: number) => void } = {}): Promise<{ items: number; links: number }> {
  const CHUNK = 20_000;
  const layout = await linkLayout(rt.db);
  for (const name of await layout.all()) await rt.db.dropCollection(name).catch(() => undefined);
  let items = 0;
  let links = 0;
  let byKey = new Map<string, Record<string, DossierRow>>();
  let byItem = new Map<string, string[]>();
  const flush = async () => {
    const keys = byKey;
    const its = byItem;
    byKey = new Map();
    byItem = new Map();
    for (const [id, ls] of its) await layout.items(id).replaceOne({ _id: id }, { links: ls }, { upsert: true });
    for (const [link, rows] of keys) await updateKey(layout, link, rows);
  };
  const cursor = itemModel(rt.db)
    .find({ status: { $in: [...DOSSIER_STATUSES] as ItemDoc['status'][] } }, { fonds: 1, status: 1, title: 1, archivalCode: 1, documentDate: 1, classification: 1, personIds: 1, unitCodes: 1, personIdsSealed: 1, unitCodesSealed: 1 })
    .lean<ItemDoc>()
    .cursor();
  for await (const item of cursor) {
    const wanted = await wantedLinks(rt.db, item);
    const row = rowOf(item);
    for (const l of wanted) byKey.set(l, { ...byKey.get(l), [row.id]: row });
    if (wanted.length) byItem.set(row.id, wanted);
    items++;
    links += wanted.length;
    if (items % CHUNK === 0) {
      await flush();
      opts.onProgress?.(items);
    }
  }
  await flush();
  return { items, links };
}

/**
 * A person's or a unit's file as the API and CLI present it: the rows the caller may read
 * (`mayRead` applies their scope and clearance to each row's fonds and level), oldest first.
 */
export async function dossierOf(rt: Runtime, kind: DossierKind, value: string, mayRead: (row: DossierRow) => boolean): Promise<{ total: number; name: string | null; items: Array<Omit<DossierRow, 'fonds' | 'level'>> }> {
  const rows = (await openDossier(rt, kind, value)).filter(mayRead);
  return { total: rows.length, name: await nameInFile(rt, kind, value, rows), items: rows.map(({ fonds: _f, level: _l, ...row }) => row) };
}

/**
 * How each person's file (一人一档) names them, from their items other than `itemId` that the caller
 * may read and that are past review (another scan still in review is no authority: it may carry
 * the same misreading); persons with no such item are left out. For review: OCR misreads a rare
 * character of a name (窦 as 窒) where the person's earlier items, read and corrected before, have
 * it right.
 */
export async function namesOnFile(rt: Runtime, itemId: string, idNumbers: string[], mayRead: (row: DossierRow) => boolean): Promise<Array<{ idNumber: string; name: string }>> {
  return (await namesInFiles(rt, 'person', itemId, idNumbers, mayRead)).map(({ value, name }) => ({ idNumber: value, name }));
}

/** The same for units, by 统一社会信用代码: an employer recurs on many items, and OCR misreads a character of its name (厂 as 三). */
export async function unitNamesOnFile(rt: Runtime, itemId: string, creditCodes: string[], mayRead: (row: DossierRow) => boolean): Promise<Array<{ creditCode: string; name: string }>> {
  return (await namesInFiles(rt, 'unit', itemId, creditCodes, mayRead)).map(({ value, name }) => ({ creditCode: value, name }));
}

/**
 * For an item in review, both of the above for the persons and units its description names (the
 * item GET and `archive show` give them); outside review, none: a filed item is not being checked.
 */
export async function reviewNamesOnFile(
  rt: Runtime,
  item: { id: string; status: string; metadata: unknown },
  mayRead: (row: DossierRow) => boolean,
): Promise<{ namesOnFile: Array<{ idNumber: string; name: string }>; unitNamesOnFile: Array<{ creditCode: string; name: string }> }> {
  if (item.status !== 'review') return { namesOnFile: [], unitNamesOnFile: [] };
  const md = item.metadata as { persons?: Array<{ idNumber: string | null }>; units?: Array<{ creditCode: string | null }> } | null;
  return {
    namesOnFile: await namesOnFile(rt, item.id, (md?.persons ?? []).flatMap((p) => (p.idNumber ? [p.idNumber] : [])), mayRead),
    unitNamesOnFile: await unitNamesOnFile(rt, item.id, (md?.units ?? []).flatMap((u) => (u.creditCode ? [u.creditCode] : [])), mayRead),
  };
}

async function namesInFiles(rt: Runtime, kind: DossierKind, itemId: string, values: string[], mayRead: (row: DossierRow) => boolean): Promise<Array<{ value: string; name: string }>> {
  const out: Array<{ value: string; name: string }> = [];
  for (const value of new Set(values.map((n) => n.toUpperCase()))) {
    const rows = (await openDossier(rt, kind, value)).filter((r) => r.id !== itemId && r.status !== 'review' && mayRead(r));
    const name = rows.length ? await nameInFile(rt, kind, value, rows) : null;
    if (name) out.push({ value, name });
  }
  return out;
}

/**
 * Whom the file is about, as its newest readable items name them (a later item, or a corrected
 * one, has the name right more often than an old scan): so the person at the counter sees that the
 * number typed is the person in front of them. The link itself never holds a name.
 */
async function nameInFile(rt: Runtime, kind: DossierKind, value: string, rows: DossierRow[]): Promise<string | null> {
  for (const row of rows.slice(-3).reverse()) {
    const item = await itemModel(rt.db).findById(row.id, { metadata: 1 }).lean<ItemDoc>().catch(() => null);
    const md = (item?.metadata ?? null) as { persons?: Array<{ name: string | null; idNumber: string | null }>; units?: Array<{ name: string | null; creditCode: string | null }> } | null;
    const name = kind === 'person' ? md?.persons?.find((p) => p.name && p.idNumber?.toUpperCase() === value)?.name : md?.units?.find((u) => u.name && u.creditCode === value)?.name;
    if (name) return name;
  }
  return null;
}
