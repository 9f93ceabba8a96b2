/**
 * Reports of the integrity room (services/integrity): consistency checks (`archive fsck`), 四性检测
 * runs (DA/T 70-2018) and backups. One document per run, written as the run goes, so a run that was
 * interrupted can be resumed from its cursor and an operator can see how far it got.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const INTEGRITY_KINDS = ['fsck', 'four-properties', 'backup', 'restore'] as const;
export type IntegrityKind = (typeof INTEGRITY_KINDS)[number];

export interface IntegrityRunDoc {
  _id: Types.ObjectId;
  kind: IntegrityKind;
  /** capture (per batch) | transfer (per package) | periodic | manual | restore */
  trigger: string;
  state: 'running' | 'done' | 'failed';
  /** Whether the run found nothing wrong (set when done). */
  ok: boolean | null;
  actor: string;
  options: Record<string, unknown>;
  /** Where a resumed run continues: the phase and the last subject it finished. */
  phase: string | null;
  cursor: string | null;
  /** Counters by check (e.g. {"blobs/verified": 120, "index/missing": 1}; FerretDB refuses dots in keys). */
  counts: Record<string, number>;
  findings: Array<Record<string, unknown>>;
  /** Free-form result of the run (backup manifest, per-property summary). */
  result: Record<string, unknown> | null;
  error: string | null;
  startedAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

const schema = new Schema<IntegrityRunDoc>(
  {
    kind: { type: String, enum: INTEGRITY_KINDS, required: true },
    trigger: { type: String, required: true, default: 'manual' },
    state: { type: String, required: true, default: 'running' },
    ok: { type: Boolean, default: null },
    actor: { type: String, required: true, default: 'system' },
    options: { type: Schema.Types.Mixed, default: {} },
    phase: { type: String, default: null },
    cursor: { type: String, default: null },
    counts: { type: Schema.Types.Mixed, default: {} },
    findings: { type: Schema.Types.Mixed, default: () => [] },
    result: { type: Schema.Types.Mixed, default: null },
    error: { type: String, default: null },
    startedAt: { type: Date, required: true, default: () => new Date() },
    updatedAt: { type: Date, required: true, default: () => new Date() },
    finishedAt: { type: Date, default: null },
  },
  { versionKey: false, minimize: false, collection: 'integrity_runs' },
);
schema.index({ kind: 1, startedAt: -1 });

export function integrityRunModel(conn: Connection): Model<IntegrityRunDoc> {
  return (conn.models.IntegrityRun as Model<IntegrityRunDoc> | undefined) ?? conn.model<IntegrityRunDoc>('IntegrityRun', schema);
}
