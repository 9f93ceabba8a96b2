/**
 * Durable jobs. A job is claimed by a lease (lockedBy + lockedUntil); an expired lease makes it
 * claimable again, which is how a killed worker's work gets finished. No transactions, TTL
 * indexes or change streams (FerretDB 1.x has none).
 *
 * Measured on FerretDB 1.24 (SQLite): neither findOneAndUpdate nor a conditional updateOne is
 * atomic under concurrency (several callers "win" the same compare-and-set), while an insert
 * against a unique key is. So the exclusive step of a claim is inserting the claim token
 * `<jobId>:<claimSeq>` into job_claims; only the inserter may then write the job.
 */
import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';

export const JOB_STATES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

const jobSchema = new Schema(
  {
    name: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, default: {} },
    /** One live job per (name, subject): enqueueing the same key again returns the existing job. */
    dedupeKey: { type: String, required: true },
    state: { type: String, enum: JOB_STATES, required: true, default: 'queued' },
    attempts: { type: Number, required: true, default: 0 },
    /** Increases with every claim and never goes back; names the claim token. */
    claimSeq: { type: Number, required: true, default: 0 },
    maxAttempts: { type: Number, required: true, default: 5 },
    runAt: { type: Date, required: true, default: () => new Date() },
    lockedBy: { type: String, default: null },
    lockedUntil: { type: Date, default: null },
    progress: {
      stage: { type: String, default: null },
      done: { type: Number, default: 0 },
      total: { type: Number, default: 0 },
    },
    lastError: { type: String, default: null },
    result: { type: Schema.Types.Mixed, default: null },
    startedAt: { type: Date, default: null },
    finishedAt: { type: Date, default: null },
  },
  { timestamps: true, minimize: false },
);
jobSchema.index({ dedupeKey: 1 }, { unique: true });
jobSchema.index({ state: 1, runAt: 1 });
jobSchema.index({ state: 1, lockedUntil: 1 });

const jobClaimSchema = new Schema(
  {
    _id: { type: String, required: true },
    jobId: { type: Schema.Types.ObjectId, required: true },
    worker: { type: String, required: true },
    at: { type: Date, required: true, default: () => new Date() },
  },
  { versionKey: false },
);
jobClaimSchema.index({ jobId: 1 });

export interface JobClaim {
  _id: string;
  jobId: Types.ObjectId;
  worker: string;
  at: Date;
}

export function jobClaimModel(conn: Connection): Model<JobClaim> {
  return (conn.models.JobClaim as Model<JobClaim> | undefined) ?? (conn.model('JobClaim', jobClaimSchema, 'job_claims') as unknown as Model<JobClaim>);
}

export type JobDoc = InferSchemaType<typeof jobSchema> & { _id: Types.ObjectId };

export function jobModel(conn: Connection): Model<JobDoc> {
  return (conn.models.Job as Model<JobDoc> | undefined) ?? conn.model<JobDoc>('Job', jobSchema);
}
