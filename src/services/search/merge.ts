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
  /** segments the log has named since the latest rebuild (their fate is known from the log) */
  known: Set<number>;
  /** the latest rebuild's segments: their items are not listed in the log, so they are never merged or deleted here */
  baseSegs: Set<number>;
}

function setOwner(state: LogState, id: string, seg: number | null): void {
  const prev = state.owner.get(id);
  if (prev !== undefined) state.live.set(prev, (state.live.get(prev) ?? 1) - 1);
  if (seg === null) state.owner.delete(id);
  else {
    state.owner.set(id, seg);
    state.live.set(seg, (state.live.get(seg) ?? 0) + 1);
  }
}

/** One log entry, as SearchEngine.apply treats it. */
export function applyEntry(state: LogState, e: LogEntry): void {
  state.head = Math.max(state.head, e._id);
  // The latest base is the reset the replay starts from (an older one cannot follow it).
  if (e.op === 'base') return;
  if (e.seg !== null) state.known.add(e.seg);
  if (e.op === 'add' && e.seg !== null) for (const id of e.items) setOwner(state, id, e.seg);
  else if (e.op === 'remove') for (const id of e.items) setOwner(state, id, null);
  else if (e.op === 'merge' && e.seg !== null) {
    const merged = new Set(e.segs);
    for (const id of e.items) if (merged.has(state.owner.get(id) ?? -1)) setOwner(state, id, e.seg);
  }
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
  const entries = (await store.m.log.find({ _id: { $gt: from } }).lean<LogEntry[]>()).sort((x, y) => x._id - y._id);
  const state: LogState = { head: from, owner: new Map(), live: new Map(), known: new Set(), baseSegs: new Set(base?.segs ?? []) };
  for (const e of entries) applyEntry(state, e);
  return state;
}

/**
 * Keeps a LogState current by point reads of the entries after the last one it saw (a scan of
 * the whole log every time would grow with every item filed since the last rebuild). A new
 * rebuild (base) starts it over with one full replay.
 */
export class LogFollower {
  private state: LogState | null = null;
  private baseSeq = -1;
  constructor(private readonly store: SearchStore) {}

  async current(): Promise<LogState> {
    const base = await this.store.base();
    if (!this.state || base !== this.baseSeq) {
      this.state = await replayLog(this.store);
      this.baseSeq = base;
      return this.state;
    }
    const head = await this.store.head();
    for (let q = this.state.head + 1; q <= head; q++) {
      const e = await this.store.entry(q);
      if (e) applyEntry(this.state, e);
    }
    this.state.head = Math.max(this.state.head, head);
    return this.state;
  }
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
