/**
 * The audit trail's storage. Entries are insert-only: nothing in the code base updates or
 * deletes them, and verify() (services/audit.service.ts) notices when anyone else did.
 *
 * Why this shape (measured on FerretDB 1.24 / SQLite):
 * - `_id` is the zero-padded seq as a string. An insert against the unique `_id` is the only
 *   atomic compare-and-set FerretDB gives us, so two appenders can never both take a seq; and
 *   equality on a string `_id` is answered from SQLite's key, while a numeric `_id` is a scan.
 * - The hashed content is stored as one canonical JSON string `e`. FerretDB decodes documents
 *   token by token, so a single string field scans about twice as fast as the same entry as
 *   nested fields, which is what keeps verify over a million entries tolerable. `actor`,
 *   `action` and `at` are copies for filtering only; list() shows `e` and flags a copy that
 *   disagrees with it.
 * - No secondary indexes: FerretDB 1.24 does not use them to answer our filters, and each one
 *   slows every append.
 */
import { Schema, type Connection, type Model } from 'mongoose';

/** Enough digits for 10^15 entries; fixed width keeps string order equal to numeric order. */
export const SEQ_WIDTH = 16;

export function seqId(seq: number): string {
  return String(seq).padStart(SEQ_WIDTH, '0');
}

export interface AuditEntryDoc {
  _id: string;
  /** canonical JSON of the entry (see AuditEntry in services/audit.service.ts) */
  e: string;
  /** SHA-256 (hex) of `e` */
  h: string;
  actor: string;
  action: string;
  at: Date;
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
}

/** Last appended position per appender process: a hint so start-up need not scan for the tail. */
export interface AuditHeadDoc {
  _id: string;
  seq: number;
  hash: string;
  at: Date;
}

const entrySchema = new Schema<AuditEntryDoc>(
  {
    _id: { type: String, required: true },
    e: { type: String, required: true },
    h: { type: String, required: true },
    actor: { type: String, required: true },
    action: { type: String, required: true },
    at: { type: Date, required: true },
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
  },
  { versionKey: false },
);

const headSchema = new Schema<AuditHeadDoc>(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    hash: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);

export function auditEntryModel(conn: Connection): Model<AuditEntryDoc> {
  return (conn.models.AuditEntry as Model<AuditEntryDoc> | undefined) ?? conn.model<AuditEntryDoc>('AuditEntry', entrySchema, 'audit_entries');
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
