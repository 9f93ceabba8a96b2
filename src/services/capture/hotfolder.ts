/**
 * The scanner's hot folder. Layout under the configured root:
 *   inbox/       the scanner writes here: a file is one item, a sub-folder of page images is one item
 *   processing/  claimed entries (moved here by an atomic rename, so two watchers never share one)
 *   done/        ingested entries, each with a <name>.receipt.json naming its item
 *   failed/      rejected entries, each with a <name>.error.json saying why (in Chinese and English)
 * An entry is picked up only after its size and modification time have stopped changing for
 * `stableMs` (the scanner may still be writing). After a crash, processing/ is re-ingested on
 * start: intake deduplicates by content, so nothing is ingested twice and nothing is lost.
 *
 * Only regular files are read (issue #13.9): a symbolic link, FIFO, device or socket (or a folder
 * holding one, or a sub-folder) goes to failed/ unread, because a link would ingest a file from
 * elsewhere and a FIFO or device would hang the server reading it. Files are opened with
 * O_NOFOLLOW | O_NONBLOCK and checked on the open descriptor (no swap between check and read),
 * and each is refused above `maxBytes`. An entry whose ingest fails for our own reasons stays in
 * processing/ for the next pass, but at most `maxAttempts` times (counted in a dotfile beside
 * it, so restarts count too); then it goes to failed/ as well.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import { ingestItem, type IntakeFile } from './intake';

export interface HotFolderOptions {
  root: string;
  fonds: string;
  stableMs?: number;
  pollMs?: number;
  /** largest file read, in bytes (default: the upload limit) */
  maxBytes?: number;
  /** ingest attempts of one entry before it goes to failed/ (default 3) */
  maxAttempts?: number;
}

interface Seen {
  signature: string;
  since: number;
}

const collator = new Intl.Collator('zh-Hans-CN', { numeric: true, sensitivity: 'base' });

/** What kind of directory entry, without following a link. */
function kindOf(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  if (st.isSocket()) return 'socket';
  return 'other';
}

function signature(p: string): string | null {
  try {
    const st = fs.lstatSync(p);
    const kind = kindOf(st);
    if (kind === 'file') return `f:${st.size}:${st.mtimeMs}`;
    if (kind !== 'directory') return `x:${kind}`; // never read; claimed and refused
    const parts = fs
      .readdirSync(p)
      .filter((n) => !n.startsWith('.'))
      .sort()
      .map((n) => {
        const s = fs.lstatSync(path.join(p, n));
        return `${n}:${kindOf(s)}:${s.size}:${s.mtimeMs}`;
      });
    return parts.length ? `d:${parts.join('|')}` : null; // an empty folder is not an item yet
  } catch {
    return null; // vanished between listing and stat: try again next poll
  }
}

function notRegular(name: string, kind: string): AppError {
  return new AppError('unsupported_media_type', {
    message: `${name} is a ${kind}, not a regular file: the hot folder reads only regular files`,
    zh: `${name} 不是普通文件（${kind}），热文件夹只读取普通文件`,
    details: { entry: name, kind },
  });
}

/** Reads one regular file without following a link, never blocking on a FIFO or device, at most maxBytes. */
function readRegular(p: string, label: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(label, 'symlink');
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw notRegular(label, kindOf(st));
    if (st.size > maxBytes) {
      throw new AppError('too_large', { message: `${label} is ${st.size} bytes; the hot folder takes at most ${maxBytes}`, zh: `${label} 大小 ${st.size} 字节，超过热文件夹上限 ${maxBytes} 字节`, details: { entry: label, size: st.size, maxBytes } });
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

function readEntry(p: string, name: string, maxBytes: number): IntakeFile[] {
  const st = fs.lstatSync(p);
  const kind = kindOf(st);
  if (kind === 'file') return [{ filename: path.basename(p), body: readRegular(p, name, maxBytes) }];
  if (kind !== 'directory') throw notRegular(name, kind);
  let total = 0;
  return fs
    .readdirSync(p)
    .filter((n) => !n.startsWith('.'))
    .sort(collator.compare)
    .map((n) => {
      const body = readRegular(path.join(p, n), `${name}/${n}`, maxBytes - total);
      total += body.length;
      return { filename: n, body };
    });
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
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
      if (name.startsWith('.')) continue; // attempt counters
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

  /** Counts an attempt at an entry in processing/; the count survives restarts. */
  private attempt(name: string): number {
    const f = path.join(this.dirs.processing, `.${name}.attempts`);
    let n = 0;
    try {
      n = Number(fs.readFileSync(f, 'utf8')) || 0;
    } catch {
      n = 0;
    }
    fs.writeFileSync(f, String(n + 1));
    return n + 1;
  }

  private clearAttempts(name: string): void {
    fs.rmSync(path.join(this.dirs.processing, `.${name}.attempts`), { force: true });
  }

  private async process(name: string): Promise<boolean> {
    const src = path.join(this.dirs.processing, name);
    const attempt = this.attempt(name);
    try {
      const maxBytes = this.opts.maxBytes ?? this.rt.config.intake.fileBytes;
      const res = await ingestItem(this.rt, { fonds: this.opts.fonds, source: name, channel: 'hotfolder', files: readEntry(src, name, maxBytes) });
      this.moveOut(src, this.dirs.done, name, { itemId: String(res.item._id), jobId: res.jobId, duplicate: res.duplicate, at: new Date().toISOString() }, 'receipt');
      this.clearAttempts(name);
      this.logger.info({ entry: name, itemId: String(res.item._id), duplicate: res.duplicate }, 'hot folder: ingested');
      await this.rt.audit
        .record({ actor: 'hotfolder', role: null, ip: 'hotfolder', action: 'item.ingest', object: { type: 'item', id: String(res.item._id) }, outcome: 'success', details: { channel: 'hotfolder', fonds: this.opts.fonds, duplicate: res.duplicate, files: res.item.originals.length } })
        .catch((auditErr: unknown) => this.logger.error({ err: auditErr, itemId: String(res.item._id) }, 'hot folder: audit entry failed'));
      return true;
    } catch (err) {
      const e = err as { code?: string; message?: string; zh?: string };
      let gone = true;
      try {
        fs.lstatSync(src);
        gone = false;
      } catch {
        gone = true;
      }
      if (gone) {
        this.clearAttempts(name);
        this.logger.warn({ entry: name }, 'hot folder: entry vanished while being read; nothing was filed');
        return false;
      }
      const maxAttempts = this.opts.maxAttempts ?? 3;
      if ((e.code === 'service_unavailable' || !(err instanceof AppError)) && attempt < maxAttempts) {
        // Our fault or a service outage, not the file's: leave it in processing/ for the next pass.
        this.logger.error({ err, entry: name, attempt }, 'hot folder: ingest failed; will retry');
        return false;
      }
      const code = err instanceof AppError ? e.code : 'internal_error';
      this.moveOut(src, this.dirs.failed, name, { code, message: e.message, messageZh: e.zh ?? '处理失败', attempts: attempt, at: new Date().toISOString() }, 'error');
      this.clearAttempts(name);
      this.logger.warn({ entry: name, code }, 'hot folder: rejected');
      await this.rt.audit
        .record({ actor: 'hotfolder', role: null, ip: 'hotfolder', action: 'item.ingest', object: { type: 'hotfolder', id: name.slice(0, 200) }, outcome: 'failure', details: { channel: 'hotfolder', code } })
        .catch((auditErr: unknown) => this.logger.error({ err: auditErr }, 'hot folder: audit entry failed'));
      return false;
    }
  }

  private moveOut(src: string, dir: string, name: string, note: Record<string, unknown>, kind: 'receipt' | 'error'): void {
    let target = path.join(dir, name);
    if (fs.existsSync(target) || isLink(target)) target = path.join(dir, `${Date.now()}-${name}`);
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
