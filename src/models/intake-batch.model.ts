/**
 * An intake batch (one upload on the scanning station, one `archive ingest` call): who sent it,
 * when, into which fonds, its items and the files refused. Kept on the server so the station's
 * progress view follows the person to another browser or PC (issue #14); the items themselves
 * carry the same `batchId` (the QC summary reads them by it).
 */
import { Schema, type Connection, type Model } from 'mongoose';

export interface IntakeBatch {
  /** The batch id the items carry (a UUID). */
  _id: string;
  actor: string;
  fonds: string;
  at: Date;
  items: string[];
  /** Those of `items` taken in by an earlier batch (the same content uploaded again): listed, not this batch's to count. */
  earlier: string[];
  /** Files refused at upload, with the reason (code, English, Chinese). */
  rejected: Array<{ file: string; code: string; message: string; messageZh: string }>;
  options: { split: string; blankSeparators: boolean };
  /** Taken off the station's list by its owner (the items are not touched). */
  hiddenAt: Date | null;
}

const schema = new Schema<IntakeBatch>(
  {
    _id: { type: String, required: true },
    actor: { type: String, required: true },
    fonds: { type: String, required: true },
    at: { type: Date, required: true, default: () => new Date() },
    items: { type: [String], default: [] },
    earlier: { type: [String], default: [] },
    rejected: { type: [{ file: String, code: String, message: String, messageZh: String, _id: false }], default: [] },
    options: { split: { type: String, default: 'item' }, blankSeparators: { type: Boolean, default: false } },
    hiddenAt: { type: Date, default: null },
  },
  { versionKey: false },
);
schema.index({ actor: 1, at: -1 });

export function intakeBatchModel(conn: Connection): Model<IntakeBatch> {
  return (conn.models.IntakeBatch as Model<IntakeBatch> | undefined) ?? conn.model<IntakeBatch>('IntakeBatch', schema, 'intake_batches');
}
