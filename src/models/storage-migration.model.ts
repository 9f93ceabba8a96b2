/**
 * Progress of `archive storage migrate-lock`: one row per object copied into the locked bucket and
 * verified (SHA-256 of the read-back equal to the source's). A rerun skips these, so a migration
 * stopped at any point resumes; the rows stay as the migration's record.
 */
import { Schema, type Connection, type Model } from 'mongoose';

export interface StorageMigrationRow {
  _id: string; // `${to}\u0000${name}`
  from: string;
  to: string;
  name: string;
  sha256: string;
  size: number;
  at: Date;
}

const schema = new Schema<StorageMigrationRow>(
  {
    _id: { type: String, required: true },
    from: { type: String, required: true },
    to: { type: String, required: true },
    name: { type: String, required: true },
    sha256: { type: String, required: true },
    size: { type: Number, required: true },
    at: { type: Date, required: true, default: () => new Date() },
  },
  { versionKey: false },
);
schema.index({ to: 1 });

export function storageMigrationModel(conn: Connection): Model<StorageMigrationRow> {
  return (conn.models.StorageMigration as Model<StorageMigrationRow> | undefined) ?? conn.model<StorageMigrationRow>('StorageMigration', schema, 'storage_migrations');
}
