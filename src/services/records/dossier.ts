/**
 * A person's or a unit's file (一人一档 / 一户一档) without a scan of the items: a link store keyed
 * by the blind key of the 公民身份号码 / 统一社会信用代码 (models/item-codec.ts, never the clear
 * number), one row per (key, item) carrying what the file lists (title, 档号, date, type, status)
 * and what scope checks need (fonds, access level).
 *
 * Every write that changes an item's persons, units, description, status or access level calls
 * linkItem(rt, item) with the item as it now is (filing, correction, access-level change; the
 * disposition and withdrawal code call linkItem / unlinkItem the same way); `archive reindex`
 * rebuilds the store from the items (rebuildDossierLinks). A per-item row lists the links
 * written for the item, so a correction that drops a person removes exactly that link.
 *
 * Layout. On MongoDB one collection, `dossier_links`, indexed by key. FerretDB 1.24 on SQLite
 * never uses an index for a query (its `_id` index expression differs from the pushed-down
 * filter: EXPLAIN shows SCAN for every find), so there the rows are spread over LINK_BUCKETS
 * collections by a hash of the key, and a file reads one bucket: ~1/1024 of the links. That
 * keeps the cost flat in practice (bench/dossier.ts: 10k → 1M items).
 */
import { createHash } from 'node:crypto';
import type { Collection, Connection } from 'mongoose';
import { blindKeyFor, type BlindField } from '../../models/item-codec';
import type { ItemDoc } from '../../models/item.model';
import { itemModel } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { itemLevel } from './item-view';

/** Items listed in a person's or a unit's file. */
export const DOSSIER_STATUSES: ReadonlySet<string> = new Set(['filed', 'review']);
/** Buckets on FerretDB (see above); one collection on MongoDB. */
export const LINK_BUCKETS = 1024;

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

interface LinkDoc extends DossierRow {
  _id: string;
  key: string;
}
interface ItemLinksDoc {
  _id: string;
  links: string[];
}

interface Layout {
  buckets: number;
  links: (key: string) => Collection<LinkDoc>;
  items: (itemId: string) => Collection<ItemLinksDoc>;
  all: () => Promise<string[]>;
}

const layouts = new WeakMap<Connection, Promise<Layout>>();

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
      const buckets = (await isFerret(conn)) ? LINK_BUCKETS : 1;
      const name = (base: string, b: number) => (buckets === 1 ? base : `${base}_${b.toString(16).padStart(3, '0')}`);
      if (buckets === 1) await conn.collection('dossier_links').createIndex({ key: 1 }).catch(() => undefined);
      return {
        buckets,
        links: (key) => conn.collection<LinkDoc>(name('dossier_links', bucketOf(key, buckets))),
        items: (id) => conn.collection<ItemLinksDoc>(name('dossier_items', bucketOf(id, buckets))),
        all: async () => ((await conn.db!.listCollections({}, { nameOnly: true }).toArray()) as Array<{ name: string }>).map((c) => c.name).filter((n) => /^dossier_(links|items)(_[0-9a-f]{3})?$/.test(n)),
      };
    })();
    p.catch(() => layouts.delete(conn));
    layouts.set(conn, p);
  }
  return p;
}

/** The links an item should have now: `<field>:<blind key>` for each person and unit. */
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
  // The per-item row first lists every link that may exist, so a crash in between leaves
  // nothing that a later call (or a rebuild) cannot find and remove.
  if (wanted.some((l) => !before.includes(l))) await mine.replaceOne({ _id: itemId }, { links: [...new Set([...before, ...wanted])] }, { upsert: true });
  await Promise.all([
    ...wanted.map((l) => {
      const key = l.slice(l.indexOf(':') + 1);
      return layout.links(key).replaceOne({ _id: `${l}:${itemId}` }, { key: l, ...row! }, { upsert: true });
    }),
    ...stale.map((l) => layout.links(l.slice(l.indexOf(':') + 1)).deleteOne({ _id: `${l}:${itemId}` })),
  ]);
  if (wanted.length) {
    if (stale.length) await mine.replaceOne({ _id: itemId }, { links: wanted }, { upsert: true });
  } else if (before.length) await mine.deleteOne({ _id: itemId });
}

/**
 * Brings the item's links in line with the item as given (read it after your write): its persons
 * and units while it is filed or in review, none otherwise. Idempotent; call it after every write
 * that changes an item's persons, units, title, 档号, date, type, status, fonds or access level.
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
 * filters by scope (the rows carry fonds and level). Reads one bucket of the link store.
 */
export async function openDossier(rt: Runtime, kind: DossierKind, value: string): Promise<DossierRow[]> {
  const key = await blindKeyFor(rt.db, FIELD[kind], value);
  const layout = await linkLayout(rt.db);
  const rows = await layout.links(key).find({ key: `${kind}:${key}` }).toArray();
  return rows
    .map(({ _id: _i, key: _k, ...row }) => row)
    .sort((a, b) => (a.documentDate ?? '9999').localeCompare(b.documentDate ?? '9999') || (a.archivalCode ?? '').localeCompare(b.archivalCode ?? ''));
}

/** Rebuilds the link store from the items (`archive reindex`): drops it, then one pass over the items. */
export async function rebuildDossierLinks(rt: Runtime, opts: { onProgress?: (n: number) => void } = {}): Promise<{ items: number; links: number }> {
  const layout = await linkLayout(rt.db);
  for (const name of await layout.all()) await rt.db.dropCollection(name).catch(() => undefined);
  if (layout.buckets === 1) await rt.db.collection('dossier_links').createIndex({ key: 1 });
  let items = 0;
  let links = 0;
  const cursor = itemModel(rt.db)
    .find({ status: { $in: [...DOSSIER_STATUSES] as ItemDoc['status'][] } }, { fonds: 1, status: 1, title: 1, archivalCode: 1, documentDate: 1, classification: 1, personIds: 1, unitCodes: 1, personIdsSealed: 1, unitCodesSealed: 1 })
    .lean<ItemDoc>()
    .cursor();
  for await (const item of cursor) {
    const wanted = await wantedLinks(rt.db, item);
    if (wanted.length) await writeLinks(rt, String(item._id), wanted, rowOf(item));
    items++;
    links += wanted.length;
    if (items % 1000 === 0) opts.onProgress?.(items);
  }
  return { items, links };
}
