/**
 * The scanning station's batches on the server (issue #14): recorded by the upload that makes them,
 * listed for the person who sent them (newest first, on any browser or PC), hidden from that list
 * by its owner. Progress itself is read from the items, which carry the batch id.
 */
import { AppError } from '../../errors';
import { intakeBatchModel, type IntakeBatch } from '../../models/intake-batch.model';
import type { Runtime } from '../../runtime';

export interface BatchView {
  id: string;
  actor: string;
  fonds: string;
  at: string;
  items: string[];
  /** Items of an earlier batch that this upload repeated: shown as such, not counted in this batch's QC. */
  earlier: string[];
  rejected: IntakeBatch['rejected'];
  options: IntakeBatch['options'];
}

const view = (b: IntakeBatch): BatchView => ({ id: b._id, actor: b.actor, fonds: b.fonds, at: new Date(b.at).toISOString(), items: b.items, earlier: b.earlier ?? [], rejected: b.rejected ?? [], options: b.options });

export async function recordBatch(rt: Runtime, b: { id: string; actor: string; fonds: string; items: string[]; earlier?: string[]; rejected: IntakeBatch['rejected']; options: IntakeBatch['options'] }): Promise<BatchView> {
  const doc = await intakeBatchModel(rt.db).create({ _id: b.id, actor: b.actor, fonds: b.fonds, items: b.items, earlier: b.earlier ?? [], rejected: b.rejected, options: b.options, at: new Date() });
  return view(doc.toObject() as IntakeBatch);
}

/** The caller's batches still on their list, newest first. */
export async function listBatches(rt: Runtime, actor: string, opts: { limit?: number } = {}): Promise<BatchView[]> {
  const rows = await intakeBatchModel(rt.db).find({ actor, hiddenAt: null }).sort({ at: -1 }).limit(Math.min(opts.limit ?? 50, 200)).lean<IntakeBatch[]>();
  return rows.map(view);
}

/** Takes a batch off its owner's list; nobody else's, and its items stay as they are. */
export async function hideBatch(rt: Runtime, actor: string, id: string): Promise<void> {
  const b = await intakeBatchModel(rt.db).findById(id).lean<IntakeBatch>();
  if (!b || b.actor !== actor) throw new AppError('not_found', { message: 'No such batch of yours', zh: '找不到您的该批次', details: { batch: id } });
  await intakeBatchModel(rt.db).updateOne({ _id: id }, { $set: { hiddenAt: new Date() } });
}
