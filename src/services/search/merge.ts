/**
 * What the index log says is current, worked out from the log alone (no segment is loaded, so a
 * worker can plan merges without holding the index in memory), and which segments to merge.
 */
import type { LogEntry, SearchStore } from './store';

export interface LogState {
  /** highest log seq read */
  head: number;
  /** item → segment holding its current version, for items written since the latest rebuild */
  owner: Map<string, number>;
  /** segment → number of current items in it (from `owner`) */
  live: Map<number, number>;
  /** the latest rebuild's segments: their items are not listed in the log, so they are never merged or deleted here */
  baseSegs: Set<number>;
}

/**
 * Replays the log the way SearchEngine applies it: the latest base resets everything, the writes
 * that raced that rebuild (between its start and its base entry) still count, then every later
 * entry in order.
 */
export async function replayLog(store: SearchStore): Promise<LogState> {
  const baseSeq = await store.base();
  const base = baseSeq > 0 ? await store.entry(baseSeq) : null;
  const from = base ? (base.from ?? base._id) : 0;
  // One query: the log is pruned at every rebuild, so it holds only what was written since.
  const entries = (await store.m.log.find({ _id: { $gt: from } }).lean<LogEntry[]>()).sort((a, b) => a._id - b._id);
  const owner = new Map<string, number>();
  let head = from;
  for (const e of entries) {
    head = Math.max(head, e._id);
    // The latest base is the reset this replay starts from (an older one cannot follow it).
    if (e.op === 'base') continue;
    if (e.op === 'add' && e.seg !== null) for (const id of e.items) owner.set(id, e.seg);
    else if (e.op === 'remove') for (const id of e.items) owner.delete(id);
    else if (e.op === 'merge' && e.seg !== null) {
      const merged = new Set(e.segs);
      for (const id of e.items) if (merged.has(owner.get(id) ?? -1)) owner.set(id, e.seg);
    }
  }
  const live = new Map<number, number>();
  for (const seg of owner.values()) live.set(seg, (live.get(seg) ?? 0) + 1);
  return { head, owner, live, baseSegs: new Set(base?.segs ?? []) };
}

export interface MergePlan {
  tier: number;
  segs: number[];
  /** the current items of those segments */
  items: string[];
}

/** Size tier of a segment: pages in [fanout^t, fanout^(t+1)). */
export function tierOf(pages: number, fanout: number): number {
  return Math.floor(Math.log(Math.max(1, pages)) / Math.log(fanout) + 1e-9);
}

/**
 * The lowest size tier holding at least `fanout` segments with current items is merged (at most
 * 4·fanout segments at a time). Tiers above `maxTier` (the rebuild writes segments of ~20,000
 * pages) are left to `archive reindex`.
 */
export function planMerge(
  state: LogState,
  metas: Array<{ _id: number; pages: number }>,
  opts: { fanout?: number; maxTier?: number } = {},
): MergePlan | null {
  const fanout = opts.fanout ?? 8;
  const maxTier = opts.maxTier ?? 3;
  const byTier = new Map<number, number[]>();
  for (const m of metas) {
    if (state.baseSegs.has(m._id) || !state.live.get(m._id)) continue;
    const t = tierOf(m.pages, fanout);
    if (t > maxTier) continue;
    const list = byTier.get(t) ?? [];
    list.push(m._id);
    byTier.set(t, list);
  }
  for (const t of [...byTier.keys()].sort((a, b) => a - b)) {
    const segs = byTier.get(t)!;
    if (segs.length < fanout) continue;
    const chosen = new Set(segs.slice(0, 4 * fanout));
    const items = [...state.owner].filter(([, seg]) => chosen.has(seg)).map(([id]) => id);
    return { tier: t, segs: [...chosen], items };
  }
  return null;
}
