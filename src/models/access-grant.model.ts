/**
 * 借阅/调阅: requests for time-limited access to one item, and their decisions. A decision is
 * its own document keyed by the request id: the unique insert is the one write FerretDB makes
 * atomic, so two approvers acting at once cannot both decide (the second gets 409). An ended
 * grant is a further insert keyed the same way.
 */
import { Schema, Types, type Connection, type Model } from 'mongoose';

export interface AccessRequestDoc {
  _id: Types.ObjectId;
  itemId: string;
  userId: string;
  username: string;
  reason: string;
  /** days asked for; the approver may give fewer */
  days: number;
  requestedAt: Date;
}

export interface AccessDecisionDoc {
  /** the request's id */
  _id: Types.ObjectId;
  approved: boolean;
  by: string;
  byName: string;
  at: Date;
  /** end of access (approved only); access ends by itself then */
  until: Date | null;
  note: string;
  /** the item's access level (rank) when approved: the grant gives nothing once the item is raised above it (#13.12); absent on older grants */
  level?: number | null;
}

export interface AccessRevocationDoc {
  _id: Types.ObjectId;
  by: string;
  byName: string;
  at: Date;
}

const requestSchema = new Schema<AccessRequestDoc>(
  {
    itemId: { type: String, required: true },
    userId: { type: String, required: true },
    username: { type: String, required: true },
    reason: { type: String, required: true },
    days: { type: Number, required: true },
    requestedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
requestSchema.index({ userId: 1, itemId: 1 });

const decisionSchema = new Schema<AccessDecisionDoc>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    approved: { type: Boolean, required: true },
    by: { type: String, required: true },
    byName: { type: String, required: true },
    at: { type: Date, required: true },
    until: { type: Date, default: null },
    note: { type: String, default: '' },
    level: { type: Number, default: null },
  },
  { versionKey: false },
);

const revocationSchema = new Schema<AccessRevocationDoc>(
  { _id: { type: Schema.Types.ObjectId, required: true }, by: { type: String, required: true }, byName: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false },
);

function model<T>(conn: Connection, name: string, schema: Schema<T>, collection: string): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema, collection);
}

export const accessRequestModel = (conn: Connection): Model<AccessRequestDoc> => model(conn, 'AccessRequest', requestSchema, 'access_requests');
export const accessDecisionModel = (conn: Connection): Model<AccessDecisionDoc> => model(conn, 'AccessDecision', decisionSchema, 'access_decisions');
export const accessRevocationModel = (conn: Connection): Model<AccessRevocationDoc> => model(conn, 'AccessRevocation', revocationSchema, 'access_revocations');
