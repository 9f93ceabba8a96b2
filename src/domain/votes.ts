/**
 * Agreement of several readings of one line. OCR reads a line again from differently scaled and
 * binarised crops when its first reading did not give a valid date or 公民身份号码; a value counts
 * only when several readings agree on it, because one reading can misread into a wrong but valid
 * value while two differently prepared crops rarely make the same mistake (see agreedDate,
 * agreedIdNumber).
 */

/** Votes per value: each reading votes once for each distinct value it holds. */
export function tally(readings: readonly string[], valuesOf: (reading: string) => readonly string[]): Map<string, number> {
  const votes = new Map<string, number>();
  for (const r of readings) for (const v of new Set(valuesOf(r))) votes.set(v, (votes.get(v) ?? 0) + 1);
  return votes;
}

/** The value with at least `minVotes` and more votes than any other, or null (one reading alone or a tie decides nothing). */
export function agreement(votes: ReadonlyMap<string, number>, readings: number, minVotes: number): { value: string; votes: number; of: number } | null {
  const [best, next] = [...votes].sort((a, b) => b[1] - a[1]);
  if (!best || best[1] < minVotes || (next && next[1] === best[1])) return null;
  return { value: best[0], votes: best[1], of: readings };
}

/**
 * Whether `remaining` more readings could change agreement(votes): each reading adds at most one
 * vote to any value, so they cannot once the leader (with its minimum) is ahead of every other value
 * by more than `remaining`, nor when no value can reach the minimum any more. Rereads stop there:
 * the value is the one all readings would have given (only `of`, the readings made, is smaller).
 */
export function moreReadingsMatter(votes: ReadonlyMap<string, number>, remaining: number, minVotes: number): boolean {
  const [best = 0, next = 0] = [...votes.values()].sort((a, b) => b - a);
  if (best + remaining < minVotes) return false;
  return !(best >= minVotes && best - next > remaining);
}
