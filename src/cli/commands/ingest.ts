import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../errors';
import { Worker } from '../../jobs/worker';
import { buildJobHandlers } from '../../jobs/registry';
import { assertArchiveKeysOpen } from '../../jobs/preflight';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { batchQcSummary, captureProgress, ingestItem, OCR_JOB, type IntakeFile } from '../../services/capture';
import { formatQcSummary } from './qc';
import { mayActOn, mayReadRow } from '../../services/access';
import { findItems, presentItem, reviewNamesOnFile, STATUS, type Classification, type ExtractedMetadata, type ItemView } from '../../services/records';
import { HOLD_KIND_ZH, holdsOnItem, periodLabel } from '../../services/disposition';
import { cliIngestFonds, cliItem, cliPrincipal, forPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import { ProgressBar } from '../progress';
import type { Command, CommandIO } from '../command';

const collator = new Intl.Collator('zh-Hans-CN', { numeric: true, sensitivity: 'base' });

/** A PATH is one item: a file, or a directory whose (non-hidden) files are its pages in natural order. */
export function filesOfPath(p: string): IntakeFile[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new AppError('validation_failed', { message: `${p}: no such file or directory`, zh: `${p}：文件或目录不存在`, details: { path: p } });
  }
  if (st.isDirectory()) {
    const names = fs
      .readdirSync(p, { withFileTypes: true })
      .filter((d) => d.isFile() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort(collator.compare);
    if (!names.length) throw new AppError('validation_failed', { message: `${p}: the directory has no files`, zh: `${p}：目录中没有文件`, details: { path: p } });
    return names.map((n) => ({ filename: n, body: fs.createReadStream(path.join(p, n)) }));
  }
  if (!st.isFile()) throw new AppError('validation_failed', { message: `${p}: not a regular file`, zh: `${p}：不是普通文件`, details: { path: p } });
  return [{ filename: path.basename(p), body: fs.createReadStream(p) }];
}


/** How often --wait looks again for a live worker (one that stops is noticed within this, plus its presence window). */
const WORKER_CHECK_MS = 2_000;

/**
 * The pipeline run in this process when no worker is alive to do it. Started before the files are
 * stored, so the first item is being read while later ones are still being encrypted and stored
 * (intake and OCR overlap instead of running one after the other), and looked at again while --wait
 * waits: a worker that stops (or was a stale registration) is noticed, and this process takes over;
 * a job the dead worker held is claimed again when its lease runs out.
 */
function localWorker(rt: Runtime, io: CommandIO, onJobEnded: () => void) {
  let worker: Worker | undefined;
  let closeHandlers: (() => Promise<void>) | undefined;
  let lastCheck = 0;
  let sawWorker = false;
  return {
    async ensure(): Promise<void> {
      if (worker || Date.now() - lastCheck < WORKER_CHECK_MS) return;
      lastCheck = Date.now();
      if ((await rt.queue.liveWorkers(OCR_JOB)) > 0) {
        sawWorker = true;
        return;
      }
      // Nobody (or nobody alive any more) will process these: run the same pipeline here.
      await assertArchiveKeysOpen(rt);
      if (sawWorker) io.err('没有正在运行的工作进程，本命令自行处理 / no live worker: processing the items in this process');
      const jobs = buildJobHandlers(rt);
      // Pages are coming (this command is storing them now): the models load meanwhile.
      jobs.warm();
      closeHandlers = jobs.close;
      worker = new Worker(rt.queue, jobs.handlers, rt.logger, rt.metrics, { concurrency: rt.config.ocr.itemsInProgress, pollMs: 200, onJobEnded });
      worker.start();
    },
    async stop(): Promise<void> {
      await worker?.stop(10_000);
      await closeHandlers?.();
    },
  };
}

/**
 * Waits until every item is final. `ids` maps an item to the PATHs it came from (two files with the
 * same content are one item, and both PATHs are reported).
 */
async function waitForItems(rt: Runtime, ids: Map<string, string[]>, io: CommandIO, json: boolean, local: ReturnType<typeof localWorker>, woken: Wakeup, onDone: (item: ItemDoc, sources: string[]) => Promise<void>): Promise<void> {
  const pending = new Set(ids.keys());
  const showBar = !json && io.isTTY;
  const bar = new ProgressBar((s) => process.stderr.write(s), showBar);
  let pagesDone = 0;
  let pagesTotal = 0;
  try {
    while (pending.size) {
      await local.ensure();
      // Only the status while waiting, whole items once final: each look is one query on the
      // database, which on FerretDB decodes every document it returns (48 whole items every
      // 300 ms was a sixth of the batch's CPU in bench:ocr).
      const states = await findItems(rt, [...pending], { status: 1 });
      const finals = states.filter((d) => STATUS.final.has(d.status)).map((d) => String(d._id));
      for (const d of finals.length ? await findItems(rt, finals) : []) {
        pending.delete(String(d._id));
        const sources = ids.get(String(d._id))!;
        await onDone(d, sources);
        // A split stack's items are waited for too, each under "PATH#k".
        for (const [k, child] of (d.status === 'split' ? d.stack?.children ?? [] : []).entries()) {
          ids.set(child, [`${sources[0]!}#${k + 1}`]);
          pending.add(child);
        }
      }
      if (showBar) {
        ({ done: pagesDone, total: pagesTotal } = await captureProgress(rt, ids.keys()));
        bar.update({ itemsDone: ids.size - pending.size, itemsTotal: ids.size, pagesDone, pagesTotal });
      }
      // A job ending in this process wakes the wait at once; items a separate worker finishes are
      // seen at the next look.
      if (pending.size) await woken.wait(showBar ? 300 : WAIT_LOOK_MS);
    }
    bar.update({ itemsDone: ids.size, itemsTotal: ids.size, pagesDone, pagesTotal }, true);
    bar.done();
  } finally {
    await local.stop();
  }
}

/** How often --wait looks at the items when no progress bar is drawn (a job of its own local worker wakes it sooner). */
const WAIT_LOOK_MS = 1_000;

/** A sleep that a signal ends early (a signal while nobody sleeps ends the next sleep at once). */
class Wakeup {
  private wake: (() => void) | undefined;
  private signalled = false;
  signal(): void {
    this.signalled = true;
    this.wake?.();
  }
  wait(ms: number): Promise<void> {
    if (this.signalled) {
      this.signalled = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = undefined;
        this.signalled = false;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

export const ingestCommand: Command = {
  name: 'ingest',
  permission: 'item.ingest',
  summary: 'Ingest scans: each PATH (a file, or a folder of page images) becomes one item (件)',
  usage: 'PATH... [--fonds CODE] [--wait] [--json]',
  description:
    'Formats: JPEG, PNG, TIFF (multi-page), scanned PDF, decided by content. Returns at once with job ids;\n' +
    'with --wait it waits until every item is filed or failed (processing the items itself when no\n' +
    '"archive worker" is running) and with --json prints one JSON object per item as it finishes.',
  options: {
    fonds: { type: 'string', description: '全宗号 of the items (default: ARCHIVE_FONDS)', valueName: 'CODE' },
    wait: { type: 'boolean', description: 'wait until the items are processed' },
    stack: { type: 'boolean', description: 'each PATH is a scanned stack: split it into items at separator sheets (archive separators)' },
    'blank-separators': { type: 'boolean', description: 'with --stack, blank pages also separate items' },
  },
  run: async ({ values, positionals, io }) => {
    if (!positionals.length) throw new AppError('validation_failed', { message: 'Give at least one PATH to ingest', zh: '请至少指定一个要归档的文件或目录' });
    return withRuntime(async (rt) => {
      const requested = typeof values.fonds === 'string' ? values.fonds : undefined;
      if (requested !== undefined && !/^[A-Z0-9]{1,8}$/.test(requested)) throw new AppError('validation_failed', { message: `--fonds ${requested}: 1-8 capital letters or digits`, zh: `全宗号 ${requested} 格式不正确：应为 1-8 位大写字母或数字` });
      // The account's fonds scope decides where it may ingest: the check POST /api/v1/ingest makes.
      const fonds = await cliIngestFonds(rt, requested);
      const me = cliPrincipal(rt)!;
      const mayRead = (item: ItemDoc) => mayActOn(rt, me, item);
      const ids = new Map<string, string[]>();
      // PATHs whose content an earlier ingest already took in: the item it made is reported, marked so.
      const before = new Set<string>();
      const batchId = randomUUID();
      let failures = 0;
      const woken = new Wakeup();
      const local = localWorker(rt, io, () => woken.signal());
      // With --wait, the pipeline starts before the first file is stored (see localWorker).
      if (values.wait) await local.ensure();
      const intakeStart = Date.now();
      for (const source of positionals) {
        try {
          const stack = values.stack ? { blankSeparators: values['blank-separators'] === true } : undefined;
          const res = await ingestItem(rt, { fonds, source, channel: 'cli', files: filesOfPath(source), stack, mayRead, batchId });
          const id = String(res.item._id);
          const earlier = ids.get(id);
          if (res.duplicate) before.add(source);
          if (earlier) earlier.push(source);
          else ids.set(id, [source]);
          if (!values.wait) {
            if (values.json) io.out(JSON.stringify({ source, id, batchId, jobId: res.jobId, status: res.item.status, duplicate: res.duplicate || !!earlier, ...(earlier ? { duplicateOf: earlier[0] } : {}) }));
            else io.out(`${source} → 条目 item ${String(res.item._id)}（任务 job ${res.jobId}${res.duplicate ? '，已存在 / already ingested' : ''}）`);
          }
        } catch (err) {
          failures++;
          const e = err as { code?: string; message?: string; zh?: string };
          if (values.json) io.out(JSON.stringify({ source, id: null, status: 'failed', reason: e.message ?? String(err), code: e.code ?? 'internal_error', pages: [] }));
          else io.err(`✘ ${source}: ${e.zh ? `${e.zh} / ` : ''}${e.message ?? String(err)}`);
        }
      }
      rt.logger.debug({ files: positionals.length, ms: Date.now() - intakeStart }, 'intake done');
      if (values.wait && !ids.size) await local.stop();
      if (values.wait && ids.size) {
        await waitForItems(rt, ids, io, values.json, local, woken, async (item, sources) => {
          const view = await presentItem(rt, item, { withText: true });
          // Every PATH gets its line: a later file with the same content as an earlier one names it.
          for (const [k, source] of sources.entries()) {
            if (item.status === 'failed') failures++;
            const dup = k > 0 ? { duplicate: true, duplicateOf: sources[0] } : before.has(source) ? { duplicate: true } : {};
            if (item.status === 'split') {
              if (values.json) io.out(JSON.stringify({ source, id: view.id, status: 'split', children: item.stack?.children ?? [], pages: [], ...dup }));
              else io.out(`✂ ${source} → ${item.stack?.children?.length ?? 0} 件 items`);
              continue;
            }
            if (values.json) io.out(JSON.stringify({ ...view, source, ...dup, pages: view.pages.map((p) => ({ ...p, n: p.n, text: p.text ?? '', confidence: p.confidence })) }));
            else io.out(`${item.status === 'failed' ? '✘' : item.status === 'qc_hold' ? '⏸' : '✔'} ${source} → ${view.id} ${view.status}${view.reason ? `: ${view.reasonZh} / ${view.reason}` : ''} (${view.pageCount} 页 pages${view.flags.length ? `, ${view.flags.length} 个提示 flags` : ''})${k > 0 ? ` = ${sources[0]!}（内容相同 / same content）` : before.has(source) ? '（此前已接收，未再归档 / ingested before, not again）' : ''}`);
          }
        });
      }
      if (ids.size && !values.json) {
        if (values.wait) {
          const qc = await batchQcSummary(rt, batchId).catch(() => null);
          if (qc) for (const line of formatQcSummary(qc)) io.out(line);
        } else io.out(`批次 batch ${batchId}（质检汇总 QC summary: archive qc summary ${batchId}）`);
      }
      return failures ? 1 : 0;
    });
  },
};

/**
 * The item's description (著录) as `archive show` prints it: what a person checks before accepting
 * or citing an item. ID numbers arrive already masked for an account without personal.full.
 */
export function descriptionLines(view: Pick<ItemView, 'title' | 'metadata' | 'classification'>): string[] {
  const m = (view.metadata ?? {}) as Partial<ExtractedMetadata>;
  const c = (view.classification ?? {}) as Partial<Classification>;
  const lines: string[] = [];
  const add = (label: string, value: string | null | undefined) => {
    if (value) lines.push(`${label}: ${value}`);
  };
  add('题名 title', view.title ?? m.title);
  add('文件类型 type', c.documentType);
  if (c.item) add('类目 schedule row', `${c.item} ${c.itemName ?? ''}${c.categoryName ? `（${c.categoryName}）` : ''}${c.provisional ? '（暂定 provisional）' : ''}`);
  if (c.retention) add('保管期限 retention', `${periodLabel(c.retention)} ${c.retention}${c.dueOn ? `，到期鉴定 due ${c.dueOn}` : ''}`);
  add('形成日期 date', m.documentDate);
  add('文号 number', m.docNumber);
  const persons = (m.persons ?? []).map((p) => [p.name, p.idNumber].filter(Boolean).join(' ')).filter(Boolean);
  add('人员 persons', persons.join('；'));
  const units = (m.units ?? []).map((u) => u.name).filter(Boolean);
  add('单位 units', units.join('；'));
  if (c.needsReview) {
    add('需审核 review', c.reason ?? '—');
    const cands = (c.candidates ?? []).slice(0, 5).map((x) => `${x.item} ${x.score.toFixed(2)}（${x.by}）`);
    add('候选 candidates', cands.join('，'));
  }
  return lines;
}

/**
 * Persons and units whose file (一人一档) names them otherwise than this scan was read, and the
 * command that takes the file's names (`--person` and `--unit` replace their lists, so it names
 * every one). Nothing is changed unasked: a person may have changed their name, a unit renamed.
 */
export function nameOnFileLines(view: Pick<ItemView, 'id' | 'metadata'> & { namesOnFile: Array<{ idNumber: string; name: string }>; unitNamesOnFile: Array<{ creditCode: string; name: string }> }): string[] {
  const md = view.metadata as Partial<ExtractedMetadata> | null;
  const persons = md?.persons ?? [];
  const units = md?.units ?? [];
  const people = new Map(view.namesOnFile.map((f) => [f.idNumber.toUpperCase(), f.name]));
  const employers = new Map(view.unitNamesOnFile.map((f) => [f.creditCode, f.name]));
  const personOnFile = (p: { idNumber: string | null }) => (p.idNumber ? people.get(p.idNumber.toUpperCase()) : undefined);
  const unitOnFile = (u: { creditCode: string | null }) => (u.creditCode ? employers.get(u.creditCode) : undefined);
  const personsDiffering = persons.filter((p) => personOnFile(p) && personOnFile(p) !== p.name);
  const unitsDiffering = units.filter((u) => unitOnFile(u) && unitOnFile(u) !== u.name);
  const lines = [
    ...personsDiffering.map((p) => `档案中的姓名 name on file: ${p.idNumber} ${personOnFile(p)}（本件识别为 read here as ${p.name ?? '—'}）`),
    ...unitsDiffering.map((u) => `单位档案中的名称 unit name on file: ${u.creditCode} ${unitOnFile(u)}（本件识别为 read here as ${u.name ?? '—'}）`),
  ];
  if (!lines.length) return lines;
  // A masked number (no personal.full) cannot be typed back: the command is for those who see it whole.
  if (!personsDiffering.length || persons.every((p) => !p.idNumber || /^\d{17}[\dX]$/i.test(p.idNumber))) {
    const args = [
      ...(personsDiffering.length ? persons.map((p) => `--person ${shellWord(`${p.idNumber ?? ''}:${personOnFile(p) ?? p.name ?? ''}`)}`) : []),
      ...(unitsDiffering.length ? units.map((u) => `--unit ${shellWord(`${u.creditCode ? `${u.creditCode}:` : ''}${unitOnFile(u) ?? u.name ?? ''}`)}`) : []),
    ];
    lines.push(`  采用 take it: archive correct ${view.id} ${args.join(' ')}`);
  }
  return lines;
}

/** A word the shell passes as it is: quoted when it holds anything but letters, digits and CJK (a unit's "(集团)"). */
function shellWord(s: string): string {
  return /^[\p{L}\p{N}:._·（）-]+$/u.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/** What an item waiting or stopped needs from a person: why it failed, or how a held scan goes on. */
export function statusLines(view: Pick<ItemView, 'id' | 'status' | 'reason' | 'reasonZh'>): string[] {
  if (view.status === 'failed') return [`失败原因 reason: ${view.reasonZh ?? '处理失败'} / ${view.reason ?? 'failed'}`];
  if (view.status === 'qc_hold') return [`质检暂存 held for QC: 请重新扫描后再接收，或说明理由后接受 / rescan and ingest again, or accept it: archive qc accept ${view.id} --reason TEXT`];
  return [];
}

export const showCommand: Command = {
  name: 'show',
  permission: 'item.read',
  summary: 'Show one item: description, pages with OCR text, quality flags',
  usage: 'ID [--json]',
  run: async ({ values, positionals, io }) =>
    withRuntime(async (rt) => {
      const id = positionals[0];
      if (!id) throw new AppError('validation_failed', { message: 'Give an item id', zh: '请提供条目编号' });
      // Scope and clearance apply to the CLI as to the API (a 借阅 grant counts too).
      const { item } = await cliItem(rt, id);
      const me = cliPrincipal(rt)!;
      const presented = await presentItem(rt, item, { withText: true });
      // In review, how each person's and unit's file names them (as GET /api/v1/items/:id gives
      // it): OCR misreads a character of a name, and their earlier items have it right.
      const view = forPrincipal(me, { ...presented, ...(await reviewNamesOnFile(rt, presented, (row) => mayReadRow(rt, me, row))) });
      if (values.json) io.out(JSON.stringify(view));
      else {
        io.out(`条目 item ${view.id}  [${view.status}]  ${view.archivalCode ?? ''}\n来源 source: ${view.source}\n页数 pages: ${view.pageCount}`);
        for (const line of statusLines(view)) io.out(line);
        for (const h of await holdsOnItem(rt, view.id)) io.out(`冻结中 on legal hold: ${h.name}（${HOLD_KIND_ZH[h.kind]}，${h.placedBy} ${h.placedAt.slice(0, 10)}）— 不能鉴定、销毁或调整页面 / cannot be appraised, destroyed or have its pages changed`);
        for (const line of descriptionLines(view)) io.out(line);
        for (const line of nameOnFileLines(view)) io.out(line);
        for (const f of view.flags) io.out(`  ! ${f.page ? `p${f.page} ` : ''}${f.messageZh} / ${f.message}`);
        for (const p of view.pages) io.out(`--- 第 ${p.n} 页 page (置信度 confidence ${p.confidence ?? '—'})\n${p.text ?? ''}`);
      }
    }),
};
