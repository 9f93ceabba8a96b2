/**
 * One row per issued 件号: (classKey, seq) is unique, and so is (classKey, itemId). Issuing a
 * number is an insert, the one operation FerretDB 1.24 performs atomically under concurrency,
 * so two workers can never take the same number, and a retry for the same item finds its own.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface ArchivalNumber {
  _id: Types.ObjectId;
  classKey: string;
  seq: number;
  itemId: string;
  issuedAt: Date;
}

const schema = new Schema<ArchivalNumber>(
  {
    classKey: { type: String, required: true },
    seq: { type: Number, required: true },
    itemId: { type: String, required: true },
    issuedAt: { type: Date, required: true, default: () => new Date() },
  },
  { versionKey: false },
);
schema.index({ classKey: 1, seq: 1 }, { unique: true });
schema.index({ classKey: 1, itemId: 1 }, { unique: true });

export function archivalNumberModel(conn: Connection): Model<ArchivalNumber> {
  return (conn.models.ArchivalNumber as Model<ArchivalNumber> | undefined) ?? conn.model<ArchivalNumber>('ArchivalNumber', schema, 'archival_numbers');
}
