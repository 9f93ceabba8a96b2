/**
 * The withdrawal register (撤销登记, 空号): one row per withdrawn 档号. (classKey, seq) is unique, so
 * withdrawing is an insert — exclusive on FerretDB 1.24 — and a second withdrawal of the same
 * number finds the first. The archival_numbers row of the number stays, so the 件号 is never issued
 * again (DA/T 22-2015: no reuse); the register says why the class has a 空号 there.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface NumberWithdrawal {
  _id: Types.ObjectId;
  classKey: string;
  seq: number;
  archivalCode: string;
  itemId: string;
  reason: string;
  actor: string;
  at: Date;
  /** The schedule version whose application caused it, when it was not a person's decision alone. */
  scheduleVersion: string | null;
}

const schema = new Schema<NumberWithdrawal>(
  {
    classKey: { type: String, required: true },
    seq: { type: Number, required: true },
    archivalCode: { type: String, required: true },
    itemId: { type: String, required: true },
    reason: { type: String, required: true },
    actor: { type: String, required: true },
    at: { type: Date, required: true, default: () => new Date() },
    scheduleVersion: { type: String, default: null },
  },
  { versionKey: false },
);
schema.index({ classKey: 1, seq: 1 }, { unique: true });
schema.index({ itemId: 1 });

export function numberWithdrawalModel(conn: Connection): Model<NumberWithdrawal> {
  return (conn.models.NumberWithdrawal as Model<NumberWithdrawal> | undefined) ?? conn.model<NumberWithdrawal>('NumberWithdrawal', schema, 'number_withdrawals');
}
