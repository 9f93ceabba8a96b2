/**
 * The scanner's hot folder. Layout under the configured root:
 *   inbox/       the scanner writes here: a file is one item, a sub-folder of page images is one item
 *   processing/  claimed entries (moved here by an atomic rename, so two watchers never share one)
 *   done/        ingested entries, each with a <name>.receipt.json naming its item
 *   failed/      rejected entries, each with a <name>.error.json saying why (in Chinese and English)
 * An entry is picked up only after its size and modification time have stopped changing for
 * `stableMs` (the scanner may still be writing). After a crash, processing/ is re-ingested on
 * start: intake deduplicates by content, so nothing is ingested twice and nothing is lost.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Runtime } from '../../runtime';
import { ingestItem, type IntakeFile } from './intake';

export interface HotFolderOptions {
  root: string;
  fonds: string;
  stableMs?: number;
  pollMs?: number;
}

interface Seen {
  signature: string;
  since: number;
}

const collator = new Intl.Collator('zh-Hans-CN', { numeric: true, sensitivity: 'base' });

function signature(p: string): string | null {
  try {
    const st = fs.statSync(p);
    if (st.isFile()) return `f:${st.size}:${st.mtimeMs}`;
    if (!st.isDirectory()) return null;
    const parts = fs
      .readdirSync(p)
      .filter((n) => !n.startsWith('.'))
      .sort()
      .map((n) => {
        const s = fs.statSync(path.join(p, n));
        return `${n}:${s.size}:${s.mtimeMs}`;
      });
    return parts.length ? `d:${parts.join('|')}` : null; // an empty folder is not an item yet
  } catch {
    return null; // vanished between listing and stat: try again next poll
  }
}

function readEntry(p: string): IntakeFile[] {
  const st = fs.statSync(p);
  if (st.isFile()) return [{ filename: path.basename(p), body: fs.readFileSync(p) }];
  return fs
    .readdirSync(p)
    .filter((n) => !n.startsWith('.'))
    .sort(collator.compare)
    .map((n) => ({ filename: n, body: fs.readFileSync(path.join(p, n)) }));
}

export class HotFolder {
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly dirs: { inbox: string; processing: string; done: string; failed: string };

  constructor(private readonly rt: Runtime, private readonly opts: HotFolderOptions, private readonly logger: Logger = rt.logger) {
    const d = (n: string) => path.join(opts.root, n);
    this.dirs = { inbox: d('inbox'), processing: d('processing'), done: d('done'), failed: d('failed') };
    for (const dir of Object.values(this.dirs)) fs.mkdirSync(dir, { recursive: true });
  }

  /** One pass: finish what a crash left in processing/, then claim every stable inbox entry. */
  async scanOnce(): Promise<{ ingested: number; failed: number }> {
    let ingested = 0;
    let failed = 0;
    for (const name of fs.readdirSync(this.dirs.processing)) {
      if (await this.process(name)) ingested++;
      else failed++;
    }
    const now = Date.now();
    const names = fs.readdirSync(this.dirs.inbox).filter((n) => !n.startsWith('.') && !n.endsWith('.part') && !n.endsWith('.tmp'));
    for (const key of [...this.seen.keys()]) if (!names.includes(key)) this.seen.delete(key);
    for (const name of names) {
      const sig = signature(path.join(this.dirs.inbox, name));
      if (!sig) continue;
      const prev = this.seen.get(name);
      if (!prev || prev.signature !== sig) {
        this.seen.set(name, { signature: sig, since: now });
        continue;
      }
      if (now - prev.since < (this.opts.stableMs ?? 2000)) continue;
      this.seen.delete(name);
      try {
        fs.renameSync(path.join(this.dirs.inbox, name), path.join(this.dirs.processing, name));
      } catch (err) {
        this.logger.warn({ err, entry: name }, 'hot folder: could not claim entry (deleted or taken); skipping');
        continue;
      }
      if (await this.process(name)) ingested++;
      else failed++;
    }
    return { ingested, failed };
  }

  private async process(name: string): Promise<boolean> {
    const src = path.join(this.dirs.processing, name);
    try {
      const res = await ingestItem(this.rt, { fonds: this.opts.fonds, source: name, channel: 'hotfolder', files: readEntry(src) });
      this.moveOut(src, this.dirs.done, name, { itemId: String(res.item._id), jobId: res.jobId, duplicate: res.duplicate, at: new Date().toISOString() }, 'receipt');
      this.logger.info({ entry: name, itemId: String(res.item._id), duplicate: res.duplicate }, 'hot folder: ingested');
      return true;
    } catch (err) {
      const e = err as { code?: string; message?: string; zh?: string };
      if (!fs.existsSync(src)) {
        this.logger.warn({ entry: name }, 'hot folder: entry vanished while being read; nothing was filed');
        return false;
      }
      if (e.code === 'service_unavailable' || !e.code) {
        // Our fault or a service outage, not the file's: leave it in processing/ for the next pass.
        this.logger.error({ err, entry: name }, 'hot folder: ingest failed; will retry');
        return false;
      }
      this.moveOut(src, this.dirs.failed, name, { code: e.code, message: e.message, messageZh: e.zh, at: new Date().toISOString() }, 'error');
      this.logger.warn({ entry: name, code: e.code }, 'hot folder: rejected');
      return false;
    }
  }

  private moveOut(src: string, dir: string, name: string, note: Record<string, unknown>, kind: 'receipt' | 'error'): void {
    let target = path.join(dir, name);
    if (fs.existsSync(target)) target = path.join(dir, `${Date.now()}-${name}`);
    fs.writeFileSync(`${target}.${kind}.json`, JSON.stringify(note, null, 2));
    fs.renameSync(src, target);
  }

  start(): void {
    const tick = () => {
      this.running = this.scanOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.logger.error({ err }, 'hot folder scan failed'))
        .finally(() => {
          this.timer = setTimeout(tick, this.opts.pollMs ?? 1000);
        });
    };
    tick();
    this.logger.info({ root: this.opts.root }, 'hot folder watching');
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    await this.running;
    clearTimeout(this.timer);
  }
}
