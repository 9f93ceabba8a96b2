/**
 * Seals the personal parts of an item at rest, in the one place every read and write of the
 * `items` collection passes: mongoose middleware on the item schema. Issue #5: "the database must
 * not become a plaintext copy of the archive"; "ID numbers are stored encrypted with a keyed-hash
 * blind index for exact lookup".
 *
 * - `metadata` (persons with names and 公民身份号码, units, OCR evidence), `preregistered` (the
 *   separator sheet's ID number and name) and every `history[].changes` (corrections) are stored
 *   as AES-256-GCM ciphertext, bound to the item's _id and field so a sealed value cannot be moved
 *   to another item or field unnoticed.
 * - `personIds` and `unitCodes` are stored as blind-index keys (HMAC-SHA256 of the normalised
 *   number), with a sealed copy of the clear list beside them (`personIdsSealed`, …); a query
 *   filter that names them with clear numbers is translated, so a lookup by ID number finds the
 *   item without the number being stored.
 *
 * Reads (find/findOne/findById, lean or not) get the clear values back, blind-index fields
 * included (from their sealed copies). What this does not cover: the raw
 * driver (`Model.collection`), `.cursor()` and aggregate bypass mongoose query middleware — do not
 * use them on items, or seal by hand with this module's functions.
 *
 * The keys are derived (HKDF) from the application's index key, which lives encrypted in the blob
 * store under the KEKs and never in the database; the runtime installs a source for it on the
 * connection and the first item query loads it.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { Connection, Document, MongooseQueryMiddleware, Query, Schema } from 'mongoose';
import { AppError } from '../errors';

export const SEALED_FIELDS = ['metadata', 'preregistered'] as const;
/** Blind-indexed fields and their HMAC domain (so equal strings in two fields hash apart). */
export const BLIND_FIELDS = { personIds: 'pid', unitCodes: 'ucc' } as const;
export type BlindField = keyof typeof BLIND_FIELDS;
const BLIND_LIST = Object.keys(BLIND_FIELDS) as BlindField[];
/** Where the clear list of a blind-indexed field is kept, sealed. */
export const sealedCopy = (f: BlindField) => `${f}Sealed` as const;

const SEAL_PREFIX = 's1:';
const BLIND_PREFIX = 'h1:';
const HISTORY_PATH = 'history.changes';

export interface ItemKeys {
  seal: Buffer;
  blind: Buffer;
}

export function deriveItemKeys(root: Buffer): ItemKeys {
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), info, 32));
  return { seal: derive('archive/items/seal/v1'), blind: derive('archive/items/blind/v1') };
}

class ItemCodec {
  private keys: ItemKeys | null = null;
  private loading: Promise<void> | null = null;

  constructor(private readonly source: () => Promise<ItemKeys>) {}

  ready(): Promise<void> {
    if (this.keys) return Promise.resolve();
    this.loading ??= this.source().then(
      (k) => {
        this.keys = k;
      },
      (err: unknown) => {
        this.loading = null;
        throw err;
      },
    );
    return this.loading;
  }

  loaded(): ItemKeys {
    if (!this.keys) throw keyMissing();
    return this.keys;
  }
}

const codecs = new WeakMap<Connection, ItemCodec>();

/** Called by the runtime when it opens: where this connection's item keys come from. */
export function installItemKeys(conn: Connection, source: () => Promise<ItemKeys>): void {
  codecs.set(conn, new ItemCodec(source));
}

function keyMissing(): AppError {
  return new AppError('key_not_found', {
    message: 'Item field keys are not installed on this database connection (open it through the runtime)',
    zh: '未加载档案条目字段密钥（请通过运行时打开数据库连接）',
  });
}

function keysOf(conn: Connection): ItemKeys {
  const c = codecs.get(conn);
  if (!c) throw keyMissing();
  return c.loaded();
}

function aad(id: unknown, path: string): Buffer {
  return Buffer.from(`item:${String(id)}:${path}`);
}

export function isSealed(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(SEAL_PREFIX);
}

export function sealValue(keys: ItemKeys, id: unknown, path: string, value: unknown): unknown {
  // null stays null: "no metadata yet" is not worth hiding and keeps `{ metadata: null }` queries working.
  if (value === null || value === undefined || isSealed(value)) return value;
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', keys.seal, nonce);
  c.setAAD(aad(id, path));
  const body = Buffer.concat([c.update(JSON.stringify(value), 'utf8'), c.final()]);
  return SEAL_PREFIX + Buffer.concat([nonce, body, c.getAuthTag()]).toString('base64');
}

export function openValue(keys: ItemKeys, id: unknown, path: string, stored: unknown): unknown {
  if (!isSealed(stored)) return stored; // written before sealing existed, or null
  const raw = Buffer.from(stored.slice(SEAL_PREFIX.length), 'base64');
  try {
    const d = createDecipheriv('aes-256-gcm', keys.seal, raw.subarray(0, 12));
    d.setAAD(aad(id, path));
    d.setAuthTag(raw.subarray(raw.length - 16));
    return JSON.parse(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8')) as unknown;
  } catch (err) {
    throw new AppError('integrity_error', { message: `Sealed field ${path} of item ${String(id)} does not decrypt (altered, moved, or another key)`, zh: `档案条目 ${String(id)} 的加密字段 ${path} 无法解密（被篡改、被移动或密钥不符）`, cause: err });
  }
}

/** The blind-index key of a clear number on this connection (loads the item keys on first use). */
export async function blindKeyFor(conn: Connection, field: BlindField, value: string): Promise<string> {
  const c = codecs.get(conn);
  if (!c) throw keyMissing();
  await c.ready();
  return blindValue(c.loaded(), field, value);
}

/** The blind-index key of an ID number or credit code; what `personIds` / `unitCodes` store. */
export function blindValue(keys: ItemKeys, field: BlindField, value: string): string {
  if (value.startsWith(BLIND_PREFIX)) return value;
  // GB 11643 / GB 32100: the check character may be written in lower case; the number is the same.
  const normal = value.trim().toUpperCase();
  return BLIND_PREFIX + createHmac('sha256', keys.blind).update(`${BLIND_FIELDS[field]}:${normal}`).digest('base64url');
}

// ---------- documents (create / save) ----------

type Plain = Record<string, unknown>;

function sealHistoryEntry(keys: ItemKeys, id: unknown, entry: unknown): unknown {
  if (!entry || typeof entry !== 'object') return entry;
  const e = entry as Plain;
  return 'changes' in e ? { ...e, changes: sealValue(keys, id, HISTORY_PATH, e.changes) } : e;
}

function blindList(keys: ItemKeys, f: BlindField, v: unknown): unknown {
  return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? blindValue(keys, f, x) : x)) : v;
}

/** A blind-indexed list as stored: keys in the field, the clear list sealed beside it. */
function storeBlind(keys: ItemKeys, id: () => unknown, f: BlindField, v: unknown): Plain {
  const out: Plain = { [f]: blindList(keys, f, v) };
  // A list of keys only (nothing clear to keep) leaves the sealed copy as it is.
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' && !x.startsWith(BLIND_PREFIX))) out[sealedCopy(f)] = sealValue(keys, id(), f, v);
  return out;
}

/** Opens a raw or lean item in place (idempotent: clear values pass through). */
export function openItem(keys: ItemKeys, doc: Plain): void {
  const id = doc._id;
  for (const f of SEALED_FIELDS) if (f in doc) doc[f] = openValue(keys, id, f, doc[f]);
  for (const f of BLIND_LIST) {
    const copy = doc[sealedCopy(f)];
    if (isSealed(copy)) doc[f] = openValue(keys, id, f, copy);
    delete doc[sealedCopy(f)];
  }
  if (Array.isArray(doc.history)) {
    for (const h of doc.history as Plain[]) if (h && 'changes' in h) h.changes = openValue(keys, id, HISTORY_PATH, h.changes);
  }
}

/** Opens what is sealed; an item with nothing sealed needs no key (and loses its empty copies). */
function open(conn: Connection, doc: Plain): void {
  if (needsKeys(doc)) openItem(keysOf(conn), doc);
  else for (const f of BLIND_LIST) delete doc[sealedCopy(f)];
}

function needsKeys(doc: Plain): boolean {
  if (SEALED_FIELDS.some((f) => isSealed(doc[f])) || BLIND_LIST.some((f) => isSealed(doc[sealedCopy(f)]))) return true;
  return Array.isArray(doc.history) && (doc.history as Plain[]).some((h) => isSealed(h?.changes));
}

// ---------- queries ----------

function translateFilter(keys: () => ItemKeys, filter: Plain): Plain {
  const out: Plain = {};
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and' || k === '$or' || k === '$nor') {
      out[k] = (v as Plain[]).map((x) => translateFilter(keys, x));
    } else if (k in BLIND_FIELDS) {
      out[k] = blindCondition(keys, k as BlindField, v);
    } else if (SEALED_FIELDS.some((f) => k === f || k.startsWith(`${f}.`)) || k.startsWith('history.changes')) {
      // Ciphertext cannot be queried: fail loudly rather than silently match nothing.
      if (k.includes('.') || (v !== null && !(typeof v === 'object' && v && Object.keys(v).every((op) => op === '$ne' || op === '$eq' || op === '$exists')))) {
        throw new Error(`items: ${k} is sealed at rest and cannot be queried (item-codec.ts)`);
      }
      out[k] = v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function blindCondition(keys: () => ItemKeys, field: BlindField, cond: unknown): unknown {
  const b = (x: unknown) => (typeof x === 'string' ? blindValue(keys(), field, x) : x);
  if (typeof cond === 'string') return b(cond);
  if (Array.isArray(cond)) return cond.map(b);
  if (cond && typeof cond === 'object' && !(cond instanceof RegExp)) {
    const out: Plain = {};
    for (const [op, v] of Object.entries(cond as Plain)) {
      if (op === '$regex' || op === '$gt' || op === '$gte' || op === '$lt' || op === '$lte') throw new Error(`items: ${field} holds blind-index keys; only exact matches work (${op})`);
      out[op] = op === '$in' || op === '$nin' || op === '$all' ? (v as unknown[]).map(b) : op === '$eq' || op === '$ne' ? b(v) : v;
    }
    return out;
  }
  if (cond instanceof RegExp) throw new Error(`items: ${field} holds blind-index keys; a pattern cannot match`);
  return cond;
}

function singleId(filter: Plain): unknown {
  const id = filter._id;
  if (id === undefined || id === null || (typeof id === 'object' && !('_bsontype' in (id as object)) && !('toHexString' in (id as object)))) return undefined;
  return id;
}

function translateUpdate(keys: () => ItemKeys, filter: Plain, update: Plain): Plain {
  const out: Plain = {};
  const set: Plain = {};
  for (const [k, v] of Object.entries(update)) {
    if (k.startsWith('$')) out[k] = v;
    else set[k] = v; // a bare field is a $set (mongoose wraps it the same way)
  }
  if (Object.keys(set).length) out.$set = { ...((out.$set as Plain | undefined) ?? {}), ...set };
  const idOf = () => {
    const id = singleId(filter);
    if (id === undefined) throw new Error('items: writing a sealed field needs an update filtered by a single _id (item-codec.ts)');
    return id;
  };
  for (const op of ['$set', '$setOnInsert'] as const) {
    const s = out[op] as Plain | undefined;
    if (!s) continue;
    const next: Plain = {};
    for (const [k, v] of Object.entries(s)) {
      if ((SEALED_FIELDS as readonly string[]).includes(k)) next[k] = sealValue(keys(), idOf(), k, v);
      else if (k in BLIND_FIELDS) Object.assign(next, storeBlind(keys(), idOf, k as BlindField, v));
      else if (k === 'history') next[k] = Array.isArray(v) ? v.map((h) => sealHistoryEntry(keys(), idOf(), h)) : v;
      else if (SEALED_FIELDS.some((f) => k.startsWith(`${f}.`)) || /^history\.\d+\.changes/.test(k) || Object.keys(BLIND_FIELDS).some((f) => k.startsWith(`${f}.`))) {
        throw new Error(`items: ${k} is sealed at rest; set the whole field (item-codec.ts)`);
      } else next[k] = v;
    }
    out[op] = next;
  }
  for (const op of ['$push', '$addToSet', '$pull'] as const) {
    const s = out[op] as Plain | undefined;
    if (!s) continue;
    const next: Plain = {};
    for (const [k, v] of Object.entries(s)) {
      const each = (f: (x: unknown) => unknown) => (v && typeof v === 'object' && '$each' in (v as Plain) ? { ...(v as Plain), $each: ((v as Plain).$each as unknown[]).map(f) } : f(v));
      if (k === 'history') next[k] = each((h) => sealHistoryEntry(keys(), idOf(), h));
      else if (k in BLIND_FIELDS) throw new Error(`items: ${op} on ${k} cannot keep its sealed copy; $set the whole list (item-codec.ts)`);
      else next[k] = v;
    }
    out[op] = next;
  }
  return out;
}

const READS: MongooseQueryMiddleware[] = ['find', 'findOne', 'findOneAndUpdate', 'findOneAndReplace', 'findOneAndDelete'];
const FILTERED: MongooseQueryMiddleware[] = [...READS, 'countDocuments', 'deleteOne', 'deleteMany', 'distinct', 'updateOne', 'updateMany', 'replaceOne'];
const UPDATES = new Set(['findOneAndUpdate', 'updateOne', 'updateMany']);

type AnyQuery = Query<unknown, unknown>;

function connOfQuery(q: AnyQuery): Connection {
  return q.model.db;
}

/**
 * An update of one item as the middleware would send it (sealed fields sealed, blind fields
 * keyed), for a bulk write through the driver: many items' updates in one request, each bound to
 * its own _id as sealing requires.
 */
export async function sealedItemUpdate(conn: Connection, id: unknown, update: Plain): Promise<Plain> {
  const codec = codecs.get(conn);
  if (codec) await codec.ready();
  return translateUpdate(() => keysOf(conn), { _id: id }, update);
}

/** Installs the sealing middleware on the item schema. */
export function itemCodecPlugin(schema: Schema): void {
  // updateOne and deleteOne are also document methods: hook the query form only.
  schema.pre(FILTERED, { document: false, query: true }, async function (this: AnyQuery) {
    const conn = connOfQuery(this);
    const codec = codecs.get(conn);
    if (codec) await codec.ready();
    const keys = () => keysOf(conn);
    const filter = this.getFilter() as Plain;
    this.setQuery(translateFilter(keys, filter));
    const op = (this as unknown as { op: string }).op;
    if (op === 'replaceOne' || op === 'findOneAndReplace') throw new Error('items: replace is not supported on sealed items; use $set (item-codec.ts)');
    if (UPDATES.has(op)) {
      const update = this.getUpdate() as Plain | null;
      if (update && !Array.isArray(update)) this.setUpdate(translateUpdate(keys, filter, update));
    }
  });

  // Hydrated documents are opened as they are built from the raw BSON (the key was loaded by the
  // query's pre hook); lean results in the query's post hook below.
  schema.pre('init', function (this: Document, raw: Plain) {
    open(this.db, raw);
  });
  schema.post(READS, { document: false, query: true }, function (this: AnyQuery, res: unknown) {
    const one = (d: unknown) => {
      if (!d || typeof d !== 'object' || '$__' in (d as object)) return; // a hydrated document: opened at init
      open(connOfQuery(this), d as Plain);
    };
    if (Array.isArray(res)) res.forEach(one);
    else one(res);
  });

  // create() and save(): seal on the way out, give the caller its clear values back afterwards.
  const clearCopies = new WeakMap<Document, Plain>();
  schema.pre('save', async function (this: Document) {
    const codec = codecs.get(this.db);
    if (codec) await codec.ready();
    const keys = () => keysOf(this.db);
    const id = this._id;
    const keep: Plain = {};
    for (const f of SEALED_FIELDS) {
      const v: unknown = this.get(f);
      if (v === null || v === undefined || isSealed(v)) continue;
      keep[f] = v;
      this.set(f, sealValue(keys(), id, f, v));
    }
    for (const f of BLIND_LIST) {
      const v = this.get(f) as unknown[] | undefined;
      if (!Array.isArray(v) || !v.some((x) => typeof x === 'string' && !x.startsWith(BLIND_PREFIX))) continue;
      keep[f] = [...v];
      for (const [path, value] of Object.entries(storeBlind(keys(), () => id, f, [...v]))) this.set(path, value);
    }
    const history = this.get('history') as Array<{ changes?: unknown }> | undefined;
    if (history?.some((h) => h.changes !== undefined && h.changes !== null && !isSealed(h.changes))) {
      keep.history = history.map((h) => h.changes);
      for (const h of history) h.changes = sealValue(keys(), id, HISTORY_PATH, h.changes);
    }
    clearCopies.set(this, keep);
  });
  schema.post('save', function (this: Document) {
    const keep = clearCopies.get(this);
    if (!keep) return;
    clearCopies.delete(this);
    for (const f of [...SEALED_FIELDS, ...BLIND_LIST]) {
      if (!(f in keep)) continue;
      this.set(f, keep[f]);
      this.unmarkModified(f);
    }
    if (keep.history) {
      const history = this.get('history') as Array<{ changes?: unknown }>;
      (keep.history as unknown[]).forEach((c, i) => {
        if (history[i]) history[i].changes = c;
      });
      this.unmarkModified('history');
    }
  });
  schema.pre('insertMany', function () {
    throw new Error('items: insertMany bypasses sealing; use create() (item-codec.ts)');
  });
}
