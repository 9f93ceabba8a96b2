import { Schema, type Connection, type Model } from 'mongoose';

/** One confirmed or corrected item as training data: its label and keyed-hash feature counts. */
export interface ClassifierExample {
  _id: string; // item id: one example per item, replaced when corrected again
  label: string;
  features: number[]; // flattened [bucket, count, bucket, count, …]
  at: Date;
}

const schema = new Schema<ClassifierExample>(
  { _id: { type: String, required: true }, label: { type: String, required: true }, features: { type: [Number], default: [] }, at: { type: Date, required: true } },
  { versionKey: false },
);

export function classifierExampleModel(conn: Connection): Model<ClassifierExample> {
  return (conn.models.ClassifierExample as Model<ClassifierExample> | undefined) ?? conn.model<ClassifierExample>('ClassifierExample', schema, 'classifier_examples');
}
