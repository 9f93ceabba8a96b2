import { accountingRulesOf } from './evaluate';
import type { PeriodCode, RetentionCode, Schedule, ScheduleItem } from './schema';

export type ChangeKind = 'added' | 'removed' | 'retention' | 'category' | 'accounting' | 'provisional';

export interface RowSummary {
  category: string;
  retention: RetentionCode;
  /** KJ rows: each allowed sub-rule with the period it resolves to. */
  accounting: { id: string; retention: PeriodCode; provisional: boolean }[];
  provisional: boolean;
}

export interface ScheduleChange {
  itemId: string;
  kinds: ChangeKind[];
  before: RowSummary | null;
  after: RowSummary | null;
}

function summarise(schedule: Schedule, item: ScheduleItem): RowSummary {
  return {
    category: item.category,
    retention: item.retention,
    accounting: accountingRulesOf(schedule, item).map((r) => ({ id: r.id, retention: r.retention as PeriodCode, provisional: r.provisional })),
    provisional: item.provisional,
  };
}

const sameAccounting = (a: RowSummary['accounting'], b: RowSummary['accounting']): boolean =>
  a.length === b.length && a.every((x, i) => x.id === b[i]?.id && x.retention === b[i]?.retention && x.provisional === b[i]?.provisional);

/**
 * Rows whose meaning changed between two schedule versions, for the review list. A new schedule
 * never rewrites decisions already recorded: the app re-evaluates the listed rows and asks a
 * person to confirm each changed outcome. Name and wording changes are not listed.
 */
export function diffSchedules(before: Schedule, after: Schedule): ScheduleChange[] {
  const changes: ScheduleChange[] = [];
  const ids = new Set([...before.itemsById.keys(), ...after.itemsById.keys()]);
  for (const itemId of ids) {
    const oldItem = before.itemsById.get(itemId);
    const newItem = after.itemsById.get(itemId);
    const b = oldItem ? summarise(before, oldItem) : null;
    const a = newItem ? summarise(after, newItem) : null;
    const kinds: ChangeKind[] = [];
    if (!b) kinds.push('added');
    else if (!a) kinds.push('removed');
    else {
      if (b.retention !== a.retention) kinds.push('retention');
      if (b.category !== a.category) kinds.push('category');
      // A KJ row whose sub-rule periods changed changes the retention of the records under it.
      if (!sameAccounting(b.accounting, a.accounting)) kinds.push('accounting');
      if (b.provisional !== a.provisional) kinds.push('provisional');
    }
    if (kinds.length > 0) changes.push({ itemId, kinds, before: b, after: a });
  }
  return changes.sort((x, y) => x.itemId.localeCompare(y.itemId));
}
