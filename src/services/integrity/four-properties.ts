/**
 * 四性检测 (DA/T 70-2018《文书类电子档案检测一般要求》; GB/T 18894-2016): 真实性 (authenticity),
 * 完整性 (integrity), 可用性 (usability), 安全性 (security), checked at capture (per batch), at
 * transfer (per package: checkFourProperties is the function the transfer-package check reuses)
 * and periodically during long-term keeping (a scheduled, sliced job; see scheduleFourProperties).
 * The item codes below follow regulations.md §5 (T1-T5, I1-I4, U1-U4, S1-S4).
 *
 * Reports are integrity runs (kind four-properties): stored, listed and exported by the API and
 * `archive check`. A failed check raises an alert: the archive_integrity_failures_total metric and
 * an `integrity.alert` audit entry.
 */
import type { ItemDoc } from '../../models/item.model';
import { itemModel } from '../../models/item.model';
import { archivalNumberModel } from '../../models/archival-number.model';
import { integrityRunModel } from '../../models/integrity.model';
import { detectFormat, inspectPdf } from '../../../ocr';
import type { Runtime } from '../../runtime';
import { archivalFormat } from '../records';
import { lastGoodRun, openRun, throttle, withdrawnNumbers, type RunHandle } from './common';

export const PROPERTIES = {
  authenticity: { zh: '真实性', en: 'authenticity' },
  integrity: { zh: '完整性', en: 'integrity' },
  usability: { zh: '可用性', en: 'usability' },
  security: { zh: '安全性', en: 'security' },
} as const;
export type Property = keyof typeof PROPERTIES;

/** The checks, by DA/T 70-2018 item (regulations.md §5). */
export const CHECKS: Record<string, { property: Property; zh: string; en: string }> = {
  T1_fixity: { property: 'authenticity', zh: '固化信息有效性：每个对象的 SHA-256 与记录一致、加密认证通过', en: 'fixity: every object authenticates and matches its recorded SHA-256' },
  T1_audit_chain: { property: 'authenticity', zh: '审计链与签名检查点有效', en: 'the audit hash chain and its signed checkpoints verify' },
  T2_archival_code: { property: 'authenticity', zh: '元数据准确性：档号规范', en: 'metadata accuracy: the 档号 follows the configured rule' },
  T3_attributes: { property: 'authenticity', zh: '内容属性（大小、格式）与元数据一致', en: 'content attributes (size, format) match the metadata' },
  I1_counts: { property: 'integrity', zh: '数据总量与移交清单一致', en: 'counts match the hand-over list' },
  I2_metadata: { property: 'integrity', zh: '必备元数据齐全', en: 'required metadata present' },
  I2_numbering: { property: 'integrity', zh: '件号连续无漏号（撤号登记除外）', en: '件号 gapless (except withdrawn numbers)' },
  I3_pages: { property: 'integrity', zh: '每一页的图像与文字均在', en: 'every page has its image and text' },
  U2_opens: { property: 'usability', zh: '原件与 PDF 可打开、可显示', en: 'originals and the PDF open' },
  U2_text_layer: { property: 'usability', zh: 'PDF 含文字层', en: 'the PDF has its text layer' },
  U2_long_term_format: { property: 'usability', zh: '格式符合长期保存要求（TIFF/JPEG/JPEG2000/PDF）', en: 'formats are long-term formats (TIFF, JPEG, JPEG 2000, PDF)' },
  S1_active_content: { property: 'security', zh: '无活动内容（脚本、自动动作）', en: 'no active content (scripts, automatic actions)' },
  S3_access_control: { property: 'security', zh: '访问控制生效（全宗、密级）', en: 'access control in force (fonds, access level)' },
  S4_backup: { property: 'security', zh: '备份存在且及时', en: 'backups exist and are recent' },
};

export interface PropertyFinding {
  check: string;
  property: Property;
  subject: string;
  severity: 'error' | 'warning';
  message: string;
  messageZh: string;
}

export interface FourPropertiesOptions {
  trigger: 'capture' | 'transfer' | 'periodic' | 'manual';
  /** the batch or package; absent = the whole archive */
  itemIds?: string[];
  /** the hand-over list (移交清单): its item count and, where known, each item's 档号 */
  handover?: { count?: number; archivalCodes?: string[] };
  /** include run-level checks (audit chain, backups); default: not for capture batches */
  archiveWide?: boolean;
  /** a backup older than this fails S4 (default 48 h) */
  backupMaxAgeMs?: number;
  ratePerSecond?: number;
  /** resume this run (or the last unfinished one) */
  resume?: string | boolean;
  /** stop after this long and leave the run resumable (the periodic job's slice) */
  budgetMs?: number;
  /** asked between items: true = stop now, resumable (ingest is waiting) */
  shouldYield?: () => Promise<boolean>;
  actor?: string;
}

export interface FourPropertiesReport {
  runId: string;
  /** false when the run stopped early (budget or yield) and must be resumed */
  complete: boolean;
  ok: boolean;
  trigger: string;
  items: number;
  summary: Record<Property, { checks: number; failed: number; warnings: number }>;
  findings: PropertyFinding[];
}

/** DA/T 31-2017 long-term image formats, plus PDF for the text (GB/T 18894-2016). */
const LONG_TERM = new Set(['tiff', 'jpeg', 'jp2', 'pdf']);

function emptySummary(): FourPropertiesReport['summary'] {
  return { authenticity: { checks: 0, failed: 0, warnings: 0 }, integrity: { checks: 0, failed: 0, warnings: 0 }, usability: { checks: 0, failed: 0, warnings: 0 }, security: { checks: 0, failed: 0, warnings: 0 } };
}

class Recorder {
  readonly findings: PropertyFinding[] = [];
  constructor(
    private readonly run: RunHandle,
    readonly summary: FourPropertiesReport['summary'],
  ) {}
  pass(check: string): void {
    const c = CHECKS[check]!;
    this.summary[c.property].checks++;
    this.run.count(`${c.property}/checks`);
  }
  fail(check: string, subject: string, en: string, zh: string, severity: 'error' | 'warning' = 'error'): void {
    const c = CHECKS[check]!;
    this.summary[c.property].checks++;
    this.summary[c.property][severity === 'error' ? 'failed' : 'warnings']++;
    this.run.count(`${c.property}/${severity === 'error' ? 'failed' : 'warnings'}`);
    this.run.count(`${c.property}/checks`);
    this.findings.push({ check, property: c.property, subject, severity, message: `${c.en}: ${en}`, messageZh: `${PROPERTIES[c.property].zh}·${c.zh}：${zh}` });
  }
}

async function checkItem(rt: Runtime, item: ItemDoc, rec: Recorder, fmt: ReturnType<typeof archivalFormat>): Promise<void> {
  const id = String(item._id);
  const subject = `item:${id}`;
  if (item.status === 'destroyed') return;
  const blobs = rt.storage.blobs;

  // 真实性 T1/T3: every object authenticates; originals match the SHA-256, size and format on the item.
  const refs: Array<{ key: string; what: string; sha256?: string; size?: number; format?: string }> = [
    ...(item.originals ?? []).map((o, i) => ({ key: o.blobKey, what: `original ${i + 1}`, sha256: o.sha256, size: o.size, format: o.format })),
    ...(item.pages ?? []).flatMap((p) => [p.imageKey ? { key: p.imageKey, what: `page ${p.n} image` } : null, p.textKey ? { key: p.textKey, what: `page ${p.n} text` } : null].filter((x): x is { key: string; what: string } => !!x)),
    ...(item.pdfKey ? [{ key: item.pdfKey, what: 'PDF' }] : []),
  ];
  let fixityOk = true;
  for (const r of refs) {
    try {
      const v = await blobs.verify(r.key);
      if (!v.ok) {
        fixityOk = false;
        rec.fail('T1_fixity', subject, `${r.what} (${r.key}) does not authenticate`, `${r.what}（${r.key}）校验失败`);
      } else if (r.sha256 && v.sha256 !== r.sha256) {
        fixityOk = false;
        rec.fail('T1_fixity', subject, `${r.what}: SHA-256 differs from the item's record`, `${r.what} 的 SHA-256 与条目记录不符`);
      }
    } catch (err) {
      fixityOk = false;
      const code = (err as { code?: string }).code ?? 'error';
      rec.fail('T1_fixity', subject, `${r.what} (${r.key}) cannot be read: ${code}`, `${r.what}（${r.key}）无法读取：${code}`);
    }
  }
  if (fixityOk) rec.pass('T1_fixity');

  // 真实性 T2: 档号 规范性.
  if (item.archivalCode) {
    const v = fmt.validate(item.archivalCode);
    if (v.valid) rec.pass('T2_archival_code');
    else rec.fail('T2_archival_code', subject, `${item.archivalCode}: ${v.reason}`, `档号 ${item.archivalCode} 不规范：${v.reason}`);
  }

  // 完整性 I2: required metadata of a filed item (DA/T 22-2015 目录: 档号、题名、日期; 3号令: 保管期限).
  if (item.status === 'filed') {
    const cls = (item.classification ?? {}) as { retention?: string | null };
    const missing = [!item.fonds && 'fonds 全宗号', !item.archivalCode && 'archivalCode 档号', !item.title && 'title 题名', !item.documentDate && 'documentDate 日期', !cls.retention && 'retention 保管期限'].filter((x): x is string => !!x);
    if (missing.length) rec.fail('I2_metadata', subject, `missing ${missing.join(', ')}`, `缺少必备元数据：${missing.join('、')}`);
    else rec.pass('I2_metadata');
  }

  // 完整性 I3: pages 1..n, each with its image and text; a PDF when there are pages.
  const ns = (item.pages ?? []).map((p) => p.n);
  const gaps = ns.length !== item.pageCount || ns.some((n, i) => n !== i + 1);
  const bare = (item.pages ?? []).filter((p) => !p.imageKey || !p.textKey).map((p) => p.n);
  if (['filed', 'review'].includes(item.status)) {
    if (gaps || bare.length || (item.pageCount > 0 && !item.pdfKey)) {
      rec.fail('I3_pages', subject, `pages ${ns.join(',')} of ${item.pageCount}${bare.length ? `; without image or text: ${bare.join(',')}` : ''}${item.pdfKey ? '' : '; no PDF'}`, `页面不全：共 ${item.pageCount} 页，实有 ${ns.length} 页${bare.length ? `；缺图像或文字：${bare.join('、')}` : ''}${item.pdfKey ? '' : '；缺 PDF'}`);
    } else rec.pass('I3_pages');
  }

  // 可用性 U2 + 安全性 S1: originals open as what they claim to be; the PDF opens, has text, no active content.
  for (const [i, o] of (item.originals ?? []).entries()) {
    let head: Buffer;
    try {
      head = await blobs.getBuffer(o.blobKey);
    } catch {
      continue; // reported under T1
    }
    let format: string | null = null;
    try {
      format = detectFormat(head.subarray(0, 1024));
    } catch {
      format = null;
    }
    if (format !== o.format) rec.fail('U2_opens', subject, `original ${i + 1} is not a readable ${o.format} (${format ?? 'unknown'})`, `原件 ${i + 1} 不是可读的 ${o.format} 文件`);
    else rec.pass('U2_opens');
    if (o.size !== head.length) rec.fail('T3_attributes', subject, `original ${i + 1}: ${head.length} bytes, the item records ${o.size}`, `原件 ${i + 1} 大小与元数据不符`);
    else rec.pass('T3_attributes');
    if (format && !LONG_TERM.has(format)) {
      rec.fail('U2_long_term_format', subject, `original ${i + 1} is ${format}, not a long-term format (DA/T 31-2017: TIFF, JPEG, JPEG 2000)`, `原件 ${i + 1} 为 ${format} 格式，非长期保存格式（DA/T 31-2017：TIFF、JPEG、JPEG2000）`, 'warning');
    } else if (format) rec.pass('U2_long_term_format');
    if (format === 'pdf') {
      const ins = await inspectPdf(head);
      if (ins.activeContent) rec.fail('S1_active_content', subject, `original ${i + 1} contains active content`, `原件 ${i + 1} 含有活动内容（脚本）`);
      else rec.pass('S1_active_content');
    }
  }
  if (item.pdfKey) {
    let ins: Awaited<ReturnType<typeof inspectPdf>> | null = null;
    try {
      ins = await inspectPdf(await blobs.getBuffer(item.pdfKey));
    } catch {
      ins = null; // reported under T1
    }
    if (ins) {
      if (!ins.opens || ins.pages !== item.pageCount) rec.fail('U2_opens', subject, `the PDF ${ins.opens ? `has ${ins.pages} pages, the item ${item.pageCount}` : `does not open (${ins.error})`}`, `PDF ${ins.opens ? `页数 ${ins.pages} 与条目 ${item.pageCount} 不符` : '无法打开'}`);
      else rec.pass('U2_opens');
      const expectText = (item.pages ?? []).map((p) => !p.blank && (p.chars ?? 0) > 0);
      const noText = ins.textChars.map((c, i) => (expectText[i] && c === 0 ? i + 1 : 0)).filter(Boolean);
      if (ins.opens && noText.length) rec.fail('U2_text_layer', subject, `the PDF has no text on page(s) ${noText.join(',')}`, `PDF 第 ${noText.join('、')} 页缺少文字层`);
      else if (ins.opens) rec.pass('U2_text_layer');
      if (ins.activeContent) rec.fail('S1_active_content', subject, 'the PDF contains active content', 'PDF 含有活动内容（脚本）');
      else rec.pass('S1_active_content');
    }
  }

  // 安全性 S3: access control in force — the item belongs to a fonds and carries a valid access level.
  const level = (item as unknown as { accessLevel?: unknown }).accessLevel ?? (item.classification as { accessLevel?: unknown } | null)?.accessLevel ?? 0;
  if (!item.fonds || typeof level !== 'number' || level < 0 || level >= rt.config.clearanceLevels.length) {
    rec.fail('S3_access_control', subject, `fonds ${item.fonds || '—'}, access level ${String(level)}`, `全宗 ${item.fonds || '—'}，密级 ${String(level)} 不在配置范围内`);
  } else rec.pass('S3_access_control');
}

/** Runs the 四性 checks over a batch, a package or the whole archive; stores and returns the report. */
export async function checkFourProperties(rt: Runtime, opts: FourPropertiesOptions): Promise<FourPropertiesReport> {
  const started = Date.now();
  const archiveWide = opts.archiveWide ?? opts.trigger !== 'capture';
  const run = await openRun(rt.db, 'four-properties', { trigger: opts.trigger, actor: opts.actor ?? 'system', resume: opts.resume, options: { itemIds: opts.itemIds?.length ?? null, handover: opts.handover ?? null, archiveWide } });
  const prior = (run.doc.result as { summary?: FourPropertiesReport['summary'] } | null)?.summary;
  const rec = new Recorder(run, prior ?? emptySummary());
  const items = itemModel(rt.db);
  const fmt = archivalFormat(rt);
  const tick = throttle(opts.ratePerSecond ?? 0);
  let cursor = run.doc.cursor;
  let checked = Number((run.doc.counts ?? {})['items/checked'] ?? 0);
  let complete = true;
  const classes = new Set<string>();
  const saveFindings = async () => run.save({ phase: 'items', cursor, findings: rec.findings.splice(0) });
  const allFindings: PropertyFinding[] = [...((run.doc.findings ?? []) as unknown as PropertyFinding[])];

  const ids = opts.itemIds ? [...new Set(opts.itemIds)].sort() : null;
  for (;;) {
    const batch = ids
      ? ids.filter((id) => !cursor || id > cursor).slice(0, 50)
      : (await items.find(cursor ? { _id: { $gt: cursor } } : {}, { _id: 1 }).sort({ _id: 1 }).limit(50).lean<Array<{ _id: unknown }>>()).map((d) => String(d._id));
    if (!batch.length) break;
    for (const id of batch) {
      if ((opts.budgetMs !== undefined && Date.now() - started > opts.budgetMs) || (opts.shouldYield && (await opts.shouldYield()))) {
        complete = false;
        break;
      }
      await tick();
      const item = await items.findById(id).lean<ItemDoc>();
      if (item) {
        await checkItem(rt, item, rec, fmt);
        if (item.archivalClass) classes.add(item.archivalClass);
        checked++;
        run.count('items/checked');
      }
      cursor = id;
    }
    allFindings.push(...rec.findings);
    await saveFindings();
    if (!complete) break;
  }

  if (complete) {
    // 完整性 I1: the hand-over list.
    if (opts.handover?.count !== undefined || opts.handover?.archivalCodes) {
      const subject = 'batch';
      const found = ids ? await items.countDocuments({ _id: { $in: ids }, status: { $ne: 'destroyed' } }) : checked;
      if (opts.handover.count !== undefined && found !== opts.handover.count) rec.fail('I1_counts', subject, `${found} items, the hand-over list says ${opts.handover.count}`, `实有 ${found} 件，移交清单为 ${opts.handover.count} 件`);
      else rec.pass('I1_counts');
      if (opts.handover.archivalCodes?.length) {
        const have = new Set((await items.find({ archivalCode: { $in: opts.handover.archivalCodes } }, { archivalCode: 1 }).lean()).map((d) => d.archivalCode));
        const absent = opts.handover.archivalCodes.filter((c) => !have.has(c));
        if (absent.length) rec.fail('I1_counts', subject, `not in the archive: ${absent.slice(0, 20).join(', ')}`, `清单中的档号不在档案中：${absent.slice(0, 20).join('、')}`);
        else rec.pass('I1_counts');
      }
    }
    // 完整性 I2: 件号 gapless in every class the run touched (the whole archive: every class).
    const withdrawn = await withdrawnNumbers(rt);
    const numbers = archivalNumberModel(rt.db);
    const classKeys = archiveWide && !ids ? (await numbers.distinct('classKey')) as string[] : [...classes];
    for (const classKey of classKeys) {
      const seqs = (await numbers.find({ classKey }, { seq: 1 }).lean()).map((r) => r.seq).sort((a, b) => a - b);
      const out = withdrawn.get(classKey) ?? new Set<number>();
      const missing: number[] = [];
      const dup: number[] = [];
      let expected = 1;
      for (const s of seqs) {
        if (s < expected) dup.push(s);
        for (; expected < s; expected++) if (!out.has(expected)) missing.push(expected);
        expected = Math.max(expected, s + 1);
      }
      if (missing.length || dup.length) rec.fail('I2_numbering', `class:${classKey}`, `${missing.length ? `missing 件号 ${missing.slice(0, 20).join(',')}` : ''}${dup.length ? ` duplicated ${dup.join(',')}` : ''}`, `${missing.length ? `漏号 ${missing.slice(0, 20).join('、')}` : ''}${dup.length ? ` 重号 ${dup.join('、')}` : ''}`);
      else rec.pass('I2_numbering');
    }
    if (archiveWide) {
      // 真实性 T1: the audit chain and its signatures.
      const v = await rt.audit.verify();
      if (v.ok) rec.pass('T1_audit_chain');
      else rec.fail('T1_audit_chain', 'audit', `${v.problems.length} problem(s), first: ${v.first?.message}`, `审计链异常 ${v.problems.length} 处`);
      // 安全性 S4: a recent good backup.
      const maxAge = opts.backupMaxAgeMs ?? 48 * 3600_000;
      const b = await lastGoodRun(rt.db, 'backup');
      if (!b?.finishedAt) rec.fail('S4_backup', 'archive', 'no successful backup on record', '没有成功的备份记录');
      else if (Date.now() - new Date(b.finishedAt).getTime() > maxAge) rec.fail('S4_backup', 'archive', `the last good backup is from ${new Date(b.finishedAt).toISOString()}`, `最近一次成功备份在 ${new Date(b.finishedAt).toISOString()}，已过期`);
      else rec.pass('S4_backup');
    }
    allFindings.push(...rec.findings);
    await saveFindings();
  }

  const ok = !allFindings.some((f) => f.severity === 'error');
  const summary = rec.summary;
  if (!complete) {
    await run.save({ phase: 'items', cursor });
    await integrityRunModel(rt.db).updateOne({ _id: run.doc._id }, { $set: { result: { summary, items: checked } } });
    return { runId: run.id, complete: false, ok, trigger: opts.trigger, items: checked, summary, findings: allFindings };
  }
  await run.finish(ok, { summary, items: checked });
  if (!ok) {
    rt.metrics.integrityFailures.inc({ kind: 'four-properties' });
    await rt.audit.record({
      actor: opts.actor ?? 'system',
      role: 'system',
      action: 'integrity.alert',
      object: { type: 'integrity_run', id: run.id },
      outcome: 'failure',
      details: { kind: 'four-properties', trigger: opts.trigger, failed: Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, v.failed])), first: allFindings.find((f) => f.severity === 'error')?.message ?? null },
    });
  }
  return { runId: run.id, complete: true, ok, trigger: opts.trigger, items: checked, summary, findings: allFindings };
}
