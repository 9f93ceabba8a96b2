/**
 * The archives' receipt (接收回执) for a transfer package: items it accepted are marked as
 * transferred (with the package, the receiver, the date and their reference). What becomes of the
 * local copy follows ARCHIVE_TRANSFER_LOCAL_COPY: `keep`, or `destroy_after_approval`, which only
 * records that the copy awaits the destruction approval chain (3号令 第十一条: nothing is destroyed
 * without appraisal and approval) — the receipt itself never deletes anything.
 */
import { z } from 'zod';
import { AppError } from '../../errors';
import { transferPackageModel } from '../../models/transfer.model';
import type { Runtime } from '../../runtime';
import { loadItem, writeTransfer } from '../records';

export const ReceiptSchema = z.strictObject({
  packageId: z.string().regex(/^YJ-[A-Z0-9]{1,8}-\d{8}-[0-9a-f]{6}$/),
  receiver: z.string().min(2).max(200),
  receivedAt: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  reference: z.string().max(200).optional(),
  items: z.array(z.strictObject({ archivalCode: z.string().min(3).max(120), accepted: z.boolean(), note: z.string().max(500).optional() })).min(1).max(100_000),
});
export type Receipt = z.infer<typeof ReceiptSchema>;

export interface ReceiptResult {
  packageId: string;
  transferred: string[];
  refused: Array<{ archivalCode: string; note: string | null }>;
  unknown: string[];
  localCopy: 'kept' | 'awaiting_destruction_approval';
}

export async function importReceipt(rt: Runtime, body: unknown, opts: { actor: string; role?: string | null }): Promise<ReceiptResult> {
  const parsed = ReceiptSchema.safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', { message: 'Not a transfer receipt', zh: '不是有效的移交接收回执', details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } });
  const r = parsed.data;
  const pkg = await transferPackageModel(rt.db).findById(r.packageId).lean();
  if (!pkg) throw new AppError('not_found', { message: `No transfer package ${r.packageId}`, zh: `没有移交包 ${r.packageId}`, details: { packageId: r.packageId } });
  const byCode = new Map(pkg.archivalCodes.map((c, i) => [c, pkg.itemIds[i]!]));
  const localCopy = rt.config.transfer.localCopy === 'keep' ? 'kept' : 'awaiting_destruction_approval';
  const result: ReceiptResult = { packageId: r.packageId, transferred: [], refused: [], unknown: [], localCopy };
  for (const line of r.items) {
    const id = byCode.get(line.archivalCode);
    if (!id) {
      result.unknown.push(line.archivalCode);
      continue;
    }
    if (!line.accepted) {
      result.refused.push({ archivalCode: line.archivalCode, note: line.note ?? null });
      continue;
    }
    const item = await loadItem(rt, id);
    const transfer = { packageId: r.packageId, receiver: r.receiver, receivedAt: r.receivedAt, reference: r.reference ?? null, localCopy };
    await writeTransfer(rt, item, transfer, { actor: opts.actor, kind: 'transferred', changes: transfer });
    result.transferred.push(line.archivalCode);
  }
  await transferPackageModel(rt.db).updateOne({ _id: r.packageId }, { $set: { status: 'received', receipt: { ...r, importedBy: opts.actor, importedAt: new Date().toISOString() } } });
  rt.audit.record({ actor: opts.actor, role: opts.role ?? null, action: 'transfer.receipt', object: { type: 'transfer', id: r.packageId }, outcome: 'success', details: { transferred: result.transferred.length, refused: result.refused.length, unknown: result.unknown.length, localCopy } });
  return result;
}
