/**
 * 档号撤销: an archivist withdraws an item's 档号 with a reason. The 件号 is never issued again
 * (its archival_numbers row stays, marked withdrawn), the withdrawal register keeps the 空号 with
 * reason, who and when, and the item returns to review without a number, so it can be re-classified
 * and numbered again in whatever class it belongs to (DA/T 22-2015 编号: no reuse; the register
 * explains the gap for the 四性 completeness check, DA/T 70-2018 I2 连续编号项无漏号).
 *
 * Each step is idempotent and the order makes a crash at any point resumable by running it again:
 * register row (unique insert) → number row marked → item updated → audit entry.
 */
import { isDuplicateKey } from '../../db';
import { AppError } from '../../errors';
import { archivalNumberModel } from '../../models/archival-number.model';
import { itemModel, type ItemDoc } from '../../models/item.model';
import { numberWithdrawalModel, type NumberWithdrawal } from '../../models/number-withdrawal.model';
import type { Runtime } from '../../runtime';
import { STATUS, writeRetention, type Classification } from '../records';
import { indexItem } from '../search';


export interface WithdrawInput {
  reason: string;
  actor: string;
  role?: string | null;
  /** Set when a schedule version's application caused the withdrawal. */
  scheduleVersion?: string | null;
}

/** What an issued number's row says once withdrawn: the item may then take a new number in the same class. */
export const withdrawnMarker = (seq: number, itemId: string): string => `withdrawn:${seq}:${itemId}`;

export async function withdrawNumber(rt: Runtime, itemId: string, input: WithdrawInput): Promise<{ item: ItemDoc; withdrawal: NumberWithdrawal }> {
  const reason = input.reason.trim();
  if (reason.length < 2 || reason.length > 500) {
    throw new AppError('validation_failed', { message: 'Give the reason for the withdrawal (2-500 characters)', zh: '请填写撤销档号的理由（2-500 字）', details: { field: 'reason' } });
  }
  const items = itemModel(rt.db);
  const item = await items.findById(itemId).lean<ItemDoc>();
  if (!item) throw new AppError('item_not_found', { details: { id: itemId } });
  const register = numberWithdrawalModel(rt.db);
  if (!item.archivalCode || !item.archivalClass) {
    throw new AppError('conflict', { message: 'The item has no 档号 to withdraw', zh: '该条目没有可撤销的档号', details: { status: item.status } });
  }
  if (!STATUS.describable.has(item.status)) {
    throw new AppError('conflict', { message: `Item is ${item.status}; only a filed or review item's number can be withdrawn`, zh: `条目状态为 ${item.status}，不能撤销档号`, details: { status: item.status } });
  }
  const classKey = item.archivalClass;
  const numbers = archivalNumberModel(rt.db);
  const own = await numbers.findOne({ classKey, itemId }).lean();
  const resumed = own ? null : await register.findOne({ itemId, archivalCode: item.archivalCode }).lean();
  const seq = own?.seq ?? resumed?.seq;
  if (seq === undefined) {
    throw new AppError('conflict', { message: `No issued number of class ${classKey} belongs to this item`, zh: '找不到该条目的件号记录', details: { classKey } });
  }

  let withdrawal: NumberWithdrawal;
  try {
    withdrawal = (await register.create({ classKey, seq, archivalCode: item.archivalCode, itemId, reason, actor: input.actor, scheduleVersion: input.scheduleVersion ?? null })).toObject();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const first = (await register.findOne({ classKey, seq }).lean())!;
    if (first.itemId !== itemId) throw new AppError('conflict', { message: `Number ${seq} of ${classKey} was withdrawn from another item`, zh: '该件号已被撤销' });
    withdrawal = first; // a crashed or repeated run: finish it
  }
  await numbers.updateOne({ classKey, seq }, { $set: { itemId: withdrawnMarker(seq, itemId) } });

  const cls = (item.classification ?? {}) as Classification;
  const updated = await writeRetention(
    rt,
    item,
    { classification: { ...cls, needsReview: true, reason: `档号 ${item.archivalCode} 已撤销 / number withdrawn: ${reason}` }, status: 'review', archivalCode: null, archivalClass: null },
    { actor: input.actor, kind: 'number_withdrawn', changes: { archivalCode: { from: item.archivalCode, to: null }, reason, ...(input.scheduleVersion ? { scheduleVersion: input.scheduleVersion } : {}) } },
  );
  rt.audit.record({
    actor: input.actor,
    role: input.role ?? null,
    action: 'number.withdraw',
    object: { type: 'item', id: itemId },
    outcome: 'success',
    details: { archivalCode: item.archivalCode, classKey, seq, reason, scheduleVersion: input.scheduleVersion ?? null },
  });
  await indexItem(rt, itemId).catch((err: unknown) => rt.logger.error({ err, itemId }, 'reindexing after a number withdrawal failed; run archive reindex'));
  return { item: updated, withdrawal };
}

/** The withdrawal register (空号登记), oldest first; optionally one class or one item. */
export async function withdrawalRegister(rt: Runtime, filter: { classKey?: string; itemId?: string } = {}): Promise<NumberWithdrawal[]> {
  const q: Record<string, string> = {};
  if (filter.classKey) q.classKey = filter.classKey;
  if (filter.itemId) q.itemId = filter.itemId;
  return numberWithdrawalModel(rt.db).find(q).sort({ at: 1, classKey: 1, seq: 1 }).lean<NumberWithdrawal[]>();
}
