/**
 * A new version of the retention schedule never silently changes decisions already recorded on
 * items: it produces a review list — every item classified under a row whose retention, category,
 * accounting rules or provisional status changed — for a compliance officer to re-confirm.
 */
import fs from 'node:fs';
import { diffSchedules, loadSchedule, type Schedule, type ScheduleChange } from '../../../retention-rules';
import { AppError } from '../../errors';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { STATUS, statusIn } from '../records';
import { scheduleFor } from './schedule';

export interface ReviewEntry {
  itemId: string;
  archivalCode: string | null;
  row: string;
  decidedUnder: string;
  kinds: ScheduleChange['kinds'];
  before: ScheduleChange['before'];
  after: ScheduleChange['after'];
}

export function loadScheduleFile(file: string): Schedule {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AppError('validation_failed', { message: `${file}: not readable JSON: ${(err as Error).message}`, zh: `${file}：无法读取或不是合法的 JSON` });
  }
  try {
    return loadSchedule(data, file);
  } catch (err) {
    throw new AppError('validation_failed', { message: (err as Error).message, zh: `保管期限表 ${file} 不合法`, details: { issues: (err as { issues?: unknown }).issues } });
  }
}

export async function scheduleReviewList(rt: Runtime, next: Schedule, current: Schedule = scheduleFor(rt)): Promise<{ from: string; to: string; changes: ScheduleChange[]; items: ReviewEntry[] }> {
  const changes = diffSchedules(current, next);
  const byRow = new Map(changes.map((c) => [c.itemId, c]));
  const items = await itemModel(rt.db)
    .find({ 'classification.item': { $in: [...byRow.keys()] }, status: statusIn(STATUS.describable) })
    .lean<ItemDoc[]>();
  return {
    from: current.versionId,
    to: next.versionId,
    changes,
    items: items.map((it) => {
      const cls = it.classification as { item: string; scheduleVersion: string };
      const c = byRow.get(cls.item)!;
      return { itemId: String(it._id), archivalCode: it.archivalCode ?? null, row: cls.item, decidedUnder: cls.scheduleVersion, kinds: c.kinds, before: c.before, after: c.after };
    }),
  };
}
