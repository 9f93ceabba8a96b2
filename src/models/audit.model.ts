/**
 * The audit trail's storage. Entries are insert-only: nothing in the code base updates or
 * deletes them, and verify() (services/audit.service.ts) notices when anyone else did.
 *
 * Why this shape (measured on FerretDB 1.24 / SQLite, docs/benchmarks.md "bench:audit"):
 * - Entries are stored in blocks: one document per appender flush holds that flush's
 *   consecutive entries. FerretDB's cost is per document (about 11k documents/s scanned on the
 *   shared dev box, however small), so a million one-entry documents take ~90 s to read while
 *   500 blocks of 2,000 take ~15 s; one insert per flush is also ~3x cheaper for the server,
 *   which is CPU the request path shares. At low traffic a block holds one entry, which is
 *   exactly the earlier one-document-per-entry format, so older trails read unchanged.
 * - `_id` is the zero-padded seq of the block's first entry. An insert against the unique
 *   `_id` is the only atomic compare-and-set FerretDB gives us: an appender only ever starts a
 *   block right after the last entry of a stored block, so two appenders racing for the same
 *   position collide on the same `_id` and blocks never overlap. Equality on a string `_id`
 *   that finds a document is answered from SQLite's key; one that finds nothing, ranges, `$in`
 *   and sorts scan the collection, so the appender never looks for a block that may not exist.
 * - The hashed content is stored as strings: `e` holds each entry's canonical JSON, one per
 *   line (canonical JSON never contains a raw newline), `h` the hex SHA-256 of each line,
 *   concatenated. FerretDB decodes documents token by token, so strings scan far faster than
 *   nested fields. `actor`, `action` (distinct values) and `at` (earliest and latest time) are
 *   copies for filtering blocks only; list() filters the entries themselves and flags a copy
 *   that disagrees with them.
 * - No secondary indexes: FerretDB 1.24 does not use them to answer our filters, and each one
 *   slows every append.
 */
import { Schema, type Connection, type Model } from 'mongoose';

/** Enough digits for 10^15 entries; fixed width keeps string order equal to numeric order. */
export const SEQ_WIDTH = 16;

export function seqId(seq: number): string {
  return String(seq).padStart(SEQ_WIDTH, '0');
}

/** Hex characters per entry hash in a block's `h`. */
export const HASH_HEX = 64;

export interface AuditBlockDoc {
  /** seqId of the block's first entry */
  _id: string;
  /** canonical JSON of each entry (see AuditEntry in services/audit.service.ts), joined by '\n' */
  e: string;
  /** hex SHA-256 of each line of `e`, concatenated */
  h: string;
  /** distinct actors; a plain string in one-entry documents written before blocks */
  actor: string[] | string;
  /** distinct actions; a plain string in older one-entry documents */
  action: string[] | string;
  /** [earliest, latest] entry time; a single Date in older one-entry documents */
  at: Date[] | Date;
}

export interface AuditCheckpointDoc {
  _id: string;
  seq: number;
  hash: string;
  at: Date;
  /** base64 RSA-SHA256 signature over checkpointPayload(seq, hash, at) */
  signature: string;
  /** SHA-256 fingerprint of the signing certificate (hex) */
  cert: string;
  /** where to look the entry up: the seq of the block holding it (not signed; absent = seq) */
  block?: number;
}

/** Last appended position per appender process: a hint so start-up need not scan for the tail. */
export interface AuditHeadDoc {
  _id: string;
  seq: number;
  hash: string;
  /** the seq of the block holding entry `seq` (absent in older hints: seq itself) */
  block?: number;
  at: Date;
}

const blockSchema = new Schema<AuditBlockDoc>(
  {
    _id: { type: String, required: true },
    e: { type: String, required: true },
    h: { type: String, required: true },
    actor: { type: [String], required: true },
    action: { type: [String], required: true },
    at: { type: [Date], required: true },
  },
  { versionKey: false },
);

const checkpointSchema = new Schema<AuditCheckpointDoc>(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
    at: { type: Date, required: true },
    signature: { type: String, required: true },
    cert: { type: String, required: true },
    block: { type: Number },
  },
  { versionKey: false },
);

const headSchema = new Schema<AuditHeadDoc>(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
    block: { type: Number },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

/** Collection name kept from the one-document-per-entry format, whose documents are valid one-entry blocks. */
export function auditBlockModel(conn: Connection): Model<AuditBlockDoc> {
  return (conn.models.AuditBlock as Model<AuditBlockDoc> | undefined) ?? conn.model<AuditBlockDoc>('AuditBlock', blockSchema, 'audit_entries');
}

export function auditCheckpointModel(conn: Connection): Model<AuditCheckpointDoc> {
  return (
    (conn.models.AuditCheckpoint as Model<AuditCheckpointDoc> | undefined) ??
    conn.model<AuditCheckpointDoc>('AuditCheckpoint', checkpointSchema, 'audit_checkpoints')
  );
}

export function auditHeadModel(conn: Connection): Model<AuditHeadDoc> {
  return (conn.models.AuditHead as Model<AuditHeadDoc> | undefined) ?? conn.model<AuditHeadDoc>('AuditHead', headSchema, 'audit_heads');
}
