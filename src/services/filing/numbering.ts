/**
 * 件号: sequential per class with no gaps and no duplicates (DA/T 22-2015 编号; checkNumbering
 * reports either), even when many workers file at once.
 */
import type { Connection } from 'mongoose';
import { isDuplicateKey } from '../../db';
import { archivalNumberModel } from '../../models/archival-number.model';
import { numberWithdrawalModel } from '../../models/number-withdrawal.model';


/** Returns the item's number in the class, issuing the next free one if it has none. Idempotent. */
export async function issueNumber(conn: Connection, classKey: string, itemId: string): Promise<number> {
  const numbers = archivalNumberModel(conn);
  for (let attempt = 0; attempt < 200; attempt++) {
    const mine = await numbers.findOne({ classKey, itemId }).lean();
    if (mine) return mine.seq;
    const last = await numbers.findOne({ classKey }).sort({ seq: -1 }).lean();
    const seq = (last?.seq ?? 0) + 1;
    try {
      await numbers.create({ classKey, seq, itemId });
      return seq;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      // Lost the race for this seq (or our own earlier try landed): look again. A short random
      // pause spreads contending workers apart.
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 + attempt * 2)));
    }
  }
  throw new Error(`could not issue a number in class ${classKey} after 200 attempts`);
}

/**
 * Gaps or duplicates in a class: empty when numbering is intact (四性 completeness check).
 * `withdrawn` lists the 件号 in the withdrawal register (空号 with a recorded reason): they are
 * accounted for, never gaps, and never issued again.
 */
export async function checkNumbering(conn: Connection, classKey: string): Promise<{ count: number; max: number; gaps: number[]; duplicates: number[]; withdrawn: number[] }> {
  const rows = await archivalNumberModel(conn).find({ classKey }).sort({ seq: 1 }).lean();
  const gaps: number[] = [];
  const duplicates: number[] = [];
  let expected = 1;
  for (const r of rows) {
    if (r.seq < expected) duplicates.push(r.seq);
    else {
      for (; expected < r.seq; expected++) gaps.push(expected);
      expected = r.seq + 1;
    }
  }
  const withdrawn = (await numberWithdrawalModel(conn).find({ classKey }).sort({ seq: 1 }).lean()).map((w) => w.seq);
  return { count: rows.length, max: rows.at(-1)?.seq ?? 0, gaps, duplicates, withdrawn };
}
