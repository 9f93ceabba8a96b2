/**
 * Transfer packages (移交, issue #11 §6): one row per exported package, with the items it carries,
 * its 四性 report and, once imported, the archives' receipt.
 */
import { Schema, type Connection, type Model } from 'mongoose';

export interface TransferPackageDoc {
  _id: string; // package id, e.g. YJ-Z001-20261202-1a2b3c
  fonds: string;
  itemIds: string[];
  archivalCodes: string[];
  createdBy: string;
  createdAt: Date;
  dir: string;
  status: 'exported' | 'received';
  report: unknown;
  receipt: unknown;
}

const schema = new Schema<TransferPackageDoc>(
  {
    _id: { type: String, required: true },
    fonds: { type: String, required: true },
    itemIds: { type: [String], default: [] },
    archivalCodes: { type: [String], default: [] },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true, default: () => new Date() },
    dir: { type: String, required: true },
    status: { type: String, enum: ['exported', 'received'], required: true, default: 'exported' },
    report: { type: Schema.Types.Mixed, default: null },
    receipt: { type: Schema.Types.Mixed, default: null },
  },
  { versionKey: false, minimize: false },
);

export function transferPackageModel(conn: Connection): Model<TransferPackageDoc> {
  return (conn.models.TransferPackage as Model<TransferPackageDoc> | undefined) ?? conn.model<TransferPackageDoc>('TransferPackage', schema, 'transfer_packages');
}
