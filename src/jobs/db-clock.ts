/**
 * The database's clock, as seen from this process. Leases, run-at times and worker presence are
 * compared across machines; if each worker used its own clock, one running minutes ahead would
 * take over jobs whose lease is still running elsewhere (two workers on one item), and jobs it
 * enqueued would wait minutes before anybody else picked them up (issue #15 §1: clock skew between
 * workers). So every time the queue writes or compares is the database server's time: the offset
 * is measured with `hello` (its `localTime`, half the round trip taken off) and refreshed now and then.
 */
import type { Connection } from 'mongoose';

export interface DbClockOptions {
  /** This process's clock (tests pass a skewed one). */
  local?: () => number;
  /** How long a measured offset is trusted. */
  refreshMs?: number;
}

export class DbClock {
  private offset = 0;
  private measuredAt = -Infinity;
  private pending: Promise<void> | null = null;
  private readonly local: () => number;
  private readonly refreshMs: number;

  constructor(
    private readonly conn: Connection,
    opts: DbClockOptions = {},
  ) {
    this.local = opts.local ?? Date.now;
    this.refreshMs = opts.refreshMs ?? 60_000;
  }

  /** The database's time now (measuring the offset first when it is missing or old). */
  async now(): Promise<Date> {
    if (this.local() - this.measuredAt > this.refreshMs) await this.sync();
    return new Date(this.local() + this.offset);
  }

  /** Milliseconds to add to this process's clock to get the database's. */
  get offsetMs(): number {
    return this.offset;
  }

  async sync(): Promise<void> {
    this.pending ??= (async () => {
      try {
        const before = this.local();
        const hello = (await this.conn.db!.command({ hello: 1 })) as { localTime?: Date };
        const after = this.local();
        if (hello.localTime instanceof Date) this.offset = hello.localTime.getTime() - Math.round((before + after) / 2);
        this.measuredAt = after;
      } catch {
        // Keep the last offset: a database that cannot answer cannot take claims either.
      } finally {
        this.pending = null;
      }
    })();
    return this.pending;
  }
}
