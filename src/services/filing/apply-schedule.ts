/**
 * `archive schedule apply VERSION`: re-evaluates every filed or review item under a schedule
 * version and records each change with the version that caused it (item history + audit trail).
 *
 * 3号令 第九条 periods are minimum periods, so:
 * - a longer or equal period, a changed due date or provisional status is applied;
 * - a shorter period is applied only to a system proposal nobody confirmed; a period a person
 *   decided (confirmed or corrected) is never shortened: the item goes to review with the new
 *   version's answer beside it (`classification.pendingSchedule`);
 * - a row the new version no longer has sends the item to review;
 * - when the period code changes, the 档号 (which carries it, DA/T 22-2015) is withdrawn into the
 *   withdrawal register with the version as its cause, and the item is numbered again in its new class.
 * Running it twice changes nothing the second time.
 */
import { evaluate, longerPeriod, type PeriodCode, type Schedule } from '../../../retention-rules';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { protectItem, STATUS, statusIn, writeRetention, type Classification, type ExtractedMetadata } from '../records';
import { describeDecision } from './classification';
import { assignArchivalCode } from './file-item';
import { withdrawNumber } from './withdraw-number';
import { indexItem } from '../search';

export type ApplyOutcome = 'unchanged' | 'updated' | 'renumbered' | 'review_shorter' | 'review_row_removed';

export interface ApplyEntry {
  itemId: string;
  archivalCode: string | null;
  row: string;
  outcome: Exclude<ApplyOutcome, 'unchanged'>;
  from: { version: string; retention: string | null; dueOn: string | null; provisional: boolean };
  to: { retention: string | null; dueOn: string | null; provisional: boolean } | null;
  newArchivalCode?: string | null;
}

export interface ApplyResult {
  version: string;
  dryRun: boolean;
  examined: number;
  unchanged: number;
  changes: ApplyEntry[];
}

const personDecided = (item: ItemDoc, cls: Classification): boolean =>
  cls.source === 'archivist' || (item.history ?? []).some((h) => h.kind === 'confirmation' || h.kind === 'correction');

const isShorter = (from: PeriodCode, to: PeriodCode): boolean => from !== to && longerPeriod(from, to) === from;

export async function applySchedule(
  rt: Runtime,
  target: Schedule,
  opts: { actor: string; role?: string | null; dryRun?: boolean; onProgress?: (done: number) => void },
): Promise<ApplyResult> {
  const items = itemModel(rt.db);
  const result: ApplyResult = { version: target.versionId, dryRun: opts.dryRun === true, examined: 0, unchanged: 0, changes: [] };
  const ids = (await items.find({ status: statusIn(STATUS.describable) }, { _id: 1 }).lean<Array<{ _id: unknown }>>()).map((d) => String(d._id));
  for (const id of ids) {
    const item = await items.findById(id).lean<ItemDoc>();
    const cls = item?.classification as Classification | null;
    if (!item || !cls?.item || !cls.retention || !STATUS.describable.has(item.status)) continue;
    result.examined++;
    opts.onProgress?.(result.examined);
    const pending = (cls as Classification & { pendingSchedule?: { version: string } }).pendingSchedule;
    if (pending?.version === target.versionId) {
      result.unchanged++;
      continue;
    }
    const from = { version: cls.scheduleVersion, retention: cls.retention, dueOn: cls.dueOn, provisional: cls.provisional };
    const base = { itemId: id, archivalCode: item.archivalCode ?? null, row: cls.item, from };
    const formedOn = ((item.metadata as ExtractedMetadata | null)?.documentDate ?? item.documentDate ?? null) as string | null;
    const row = target.itemsById.get(cls.item);

    if (!row) {
      result.changes.push({ ...base, outcome: 'review_row_removed', to: null });
      if (opts.dryRun) continue;
      await writeRetention(
        rt,
        item,
        { status: 'review', classification: { ...cls, needsReview: true, reason: `保管期限表 ${target.versionId} 不再有条目 ${cls.item}，请重新分类 / row removed by ${target.versionId}`, pendingSchedule: { version: target.versionId, retention: null, dueOn: null } } as Classification },
        { actor: opts.actor, kind: 'schedule_review', changes: { scheduleVersion: target.versionId, row: { from: cls.item, to: null } } },
      );
      record(rt, opts, id, 'review_row_removed', { row: cls.item });
      continue;
    }

    let kind = cls.accountingRuleId ?? undefined;
    if (kind !== undefined && !(row.accounting ?? []).includes(kind)) kind = undefined;
    const decision = evaluate(target, { itemId: row.id, formedOn, accountingRuleId: kind });
    const to = { retention: decision.retention, dueOn: decision.dueOn, provisional: decision.provisional };
    const same = to.retention === from.retention && to.dueOn === from.dueOn && to.provisional === from.provisional && cls.scheduleVersion === target.versionId;
    if (same) {
      result.unchanged++;
      continue;
    }

    if (isShorter(from.retention, decision.retention) && personDecided(item, cls)) {
      result.changes.push({ ...base, outcome: 'review_shorter', to });
      if (opts.dryRun) continue;
      await writeRetention(
        rt,
        item,
        {
          status: 'review',
          classification: {
            ...cls,
            needsReview: true,
            reason: `保管期限表 ${target.versionId} 将保管期限由 ${from.retention} 缩短为 ${to.retention}；人工确认的期限不会被自动缩短，请复核 / ${target.versionId} would shorten a period a person decided: review`,
            pendingSchedule: { version: target.versionId, ...to },
          } as Classification,
        },
        { actor: opts.actor, kind: 'schedule_review', changes: { scheduleVersion: target.versionId, retention: { from: from.retention, to: to.retention } } },
      );
      record(rt, opts, id, 'review_shorter', { retention: { from: from.retention, to: to.retention } });
      continue;
    }

    const next: Classification = describeDecision(target, row.id, decision, {
      documentType: cls.documentType,
      confidence: cls.confidence,
      source: cls.source,
      candidates: cls.candidates,
      needsReview: cls.needsReview,
      reason: cls.reason,
    });
    const renumber = item.archivalCode !== null && item.archivalCode !== undefined && from.retention !== to.retention;
    const entry: ApplyEntry = { ...base, outcome: renumber ? 'renumbered' : 'updated', to };
    result.changes.push(entry);
    if (opts.dryRun) continue;
    const changes = {
      scheduleVersion: { from: from.version, to: target.versionId },
      ...(from.retention !== to.retention ? { retention: { from: from.retention, to: to.retention } } : {}),
      ...(from.dueOn !== to.dueOn ? { dueOn: { from: from.dueOn, to: to.dueOn } } : {}),
      ...(from.provisional !== to.provisional ? { provisional: { from: from.provisional, to: to.provisional } } : {}),
    };
    if (renumber && formedOn) {
      await withdrawNumber(rt, id, { reason: `保管期限表 ${target.versionId} 调整保管期限 ${from.retention}→${to.retention}，档号随之变更`, actor: opts.actor, role: opts.role, scheduleVersion: target.versionId });
      const after = (await items.findById(id).lean<ItemDoc>())!;
      const md = (after.metadata as ExtractedMetadata | null) ?? ({ insuranceTypes: [] } as unknown as ExtractedMetadata);
      const a = await assignArchivalCode(rt, after, next, { insuranceTypes: md.insuranceTypes ?? [] }, formedOn);
      entry.newArchivalCode = a.code;
      await writeRetention(
        rt,
        after,
        { classification: next, archivalCode: a.code, archivalClass: a.classKey, status: item.status as 'filed' | 'review' },
        { actor: opts.actor, kind: 'schedule_applied', changes: { ...changes, archivalCode: { from: item.archivalCode, to: a.code } } },
      );
      await indexItem(rt, id).catch((err: unknown) => rt.logger.error({ err, itemId: id }, 'reindexing a renumbered item failed; run archive reindex'));
    } else {
      await writeRetention(rt, item, { classification: next }, { actor: opts.actor, kind: 'schedule_applied', changes });
    }
    // A longer period extends the object lock; a shorter one leaves the longer lock to expire.
    if (item.status === 'filed') await protectItem(rt, id);
    record(rt, opts, id, entry.outcome, changes);
  }
  if (!opts.dryRun) {
    rt.audit.record({
      actor: opts.actor,
      role: opts.role ?? null,
      action: 'schedule.apply',
      object: { type: 'schedule', id: target.versionId },
      outcome: 'success',
      details: { examined: result.examined, unchanged: result.unchanged, changed: result.changes.length },
    });
  }
  return result;
}

function record(rt: Runtime, opts: { actor: string; role?: string | null }, itemId: string, outcome: string, details: Record<string, unknown>): void {
  rt.audit.record({ actor: opts.actor, role: opts.role ?? null, action: 'schedule.apply.item', object: { type: 'item', id: itemId }, outcome: 'success', details: { outcome, ...details } });
}
