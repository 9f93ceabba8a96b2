/**
 * An archivist confirms or corrects a proposed description. Retention is re-derived from the
 * corrected row and date; the 档号 is issued on confirmation, and a correction that would move an
 * already numbered item into another numbering class is refused (the 件号 sequence must stay
 * gapless — DA/T 22-2015). Every change is kept in the item's history and teaches the classifier.
 */
import { z } from 'zod';
import { validateCreditCode } from '../../domain/credit-code';
import { parseDate } from '../../domain/dates';
import { validateIdNumber } from '../../domain/id-number';
import { AppError } from '../../errors';
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { decideRetention, describeDecision, learn, type Classification } from './classification';
import type { ExtractedMetadata } from './extraction';
import { archivalFormat, itemLevel, loadItem, protectItem, STATUS, writeAccessLevel, writeDescription } from '../records';
import { archivalParts, assignArchivalCode, loadPageTexts } from './file-item';
import { indexItem, removeItem } from '../search';
import { scheduleFor } from './schedule';

export const CorrectionSchema = z
  .object({
    confirm: z.boolean().optional(),
    classification: z.object({ item: z.string().min(1).max(20), accountingRuleId: z.string().max(40).optional() }).strict().optional(),
    metadata: z
      .object({
        title: z.string().min(1).max(200).optional(),
        documentDate: z.string().max(20).optional(),
        docNumber: z.string().max(80).nullable().optional(),
        persons: z.array(z.object({ name: z.string().max(40).nullable(), idNumber: z.string().max(18).nullable() }).strict()).max(50).optional(),
        units: z.array(z.object({ name: z.string().max(100).nullable(), creditCode: z.string().max(18).nullable() }).strict()).max(50).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => b.confirm || b.classification || b.metadata, 'nothing to change: give confirm, classification or metadata');
export type Correction = z.infer<typeof CorrectionSchema>;

function invalid(message: string, zh: string, details: Record<string, unknown>): AppError {
  return new AppError('validation_failed', { message, zh, details });
}

export async function correctItem(rt: Runtime, itemId: string, body: Correction, actor: string): Promise<ItemDoc> {
  const item = await loadItem(rt, itemId);
  if (!STATUS.describable.has(item.status)) {
    throw new AppError('conflict', { message: `Item is ${item.status}; only filed or review items can be described`, zh: `条目状态为 ${item.status}，只有已归档或待审核的条目可以著录`, details: { status: item.status } });
  }
  const md = { ...((item.metadata as ExtractedMetadata | null) ?? ({} as ExtractedMetadata)) };
  const changes: Record<string, { from: unknown; to: unknown }> = {};

  if (body.metadata) {
    const m = body.metadata;
    if (m.documentDate !== undefined) {
      const d = parseDate(m.documentDate);
      if (!d.ok || d.precision !== 'day') throw invalid(`documentDate ${m.documentDate}: not a valid date`, `形成日期 ${m.documentDate} 不是有效日期`, { field: 'documentDate' });
      changes.documentDate = { from: md.documentDate, to: d.value };
      md.documentDate = d.value;
    }
    if (m.persons) {
      for (const p of m.persons) {
        if (p.idNumber) {
          const v = validateIdNumber(p.idNumber);
          if (!v.valid) throw invalid(`idNumber ${p.idNumber}: ${v.message}`, `公民身份号码 ${p.idNumber} 无效`, { field: 'persons.idNumber', problem: v.problem });
        }
      }
      changes.persons = { from: md.persons?.map((p) => ({ name: p.name, idNumber: p.idNumber })), to: m.persons };
      md.persons = m.persons.map((p) => ({ name: p.name, idNumber: p.idNumber?.toUpperCase() ?? null, evidence: [] }));
    }
    if (m.units) {
      for (const u of m.units) {
        if (u.creditCode && !validateCreditCode(u.creditCode).valid) throw invalid(`creditCode ${u.creditCode} is not valid`, `统一社会信用代码 ${u.creditCode} 无效`, { field: 'units.creditCode' });
      }
      changes.units = { from: md.units?.map((u) => ({ name: u.name, creditCode: u.creditCode })), to: m.units };
      md.units = m.units.map((u) => ({ ...u, evidence: [] }));
    }
    if (m.title !== undefined) {
      changes.title = { from: md.title, to: m.title };
      md.title = m.title;
    }
    if (m.docNumber !== undefined) {
      changes.docNumber = { from: md.docNumber, to: m.docNumber };
      md.docNumber = m.docNumber;
    }
  }

  // Never the scan date: it would set the retention clock and the 档号's 年度 (3号令 第九条). The
  // item's own recorded 形成日期 (written from the metadata when it was described; the only date an
  // item imported without extraction metadata has) is the same date, so it counts.
  if (md.documentDate == null && item.documentDate) md.documentDate = item.documentDate as string;
  const formedOn = md.documentDate ?? null;
  const schedule = scheduleFor(rt);
  const pages = await loadPageTexts(rt, item);
  const text = pages.map((p) => p.text).join('\n');
  const previous = item.classification as Classification | null;
  let cls: Classification | null = previous;
  const targetRow = body.classification?.item ?? previous?.item ?? null;
  if (body.classification && !schedule.itemsById.has(body.classification.item)) {
    throw invalid(`classification.item ${body.classification.item}: no such row in schedule ${schedule.versionId}`, `保管期限表中没有条目 ${body.classification.item}`, { field: 'classification.item' });
  }
  if (!targetRow) throw invalid('This item has no proposed classification: give classification.item', '该条目尚无分类建议，请指定 classification.item', { field: 'classification.item' });
  if (!schedule.itemsById.has(targetRow)) {
    throw invalid(`row ${targetRow} is not in schedule ${schedule.versionId}: give classification.item`, `保管期限表 ${schedule.versionId} 中没有条目 ${targetRow}，请重新分类`, { field: 'classification.item' });
  }
  if (formedOn === null) {
    throw invalid('The formation date (形成日期) is unknown: give metadata.documentDate; the scan date never stands in for it', '形成日期未知，请著录 metadata.documentDate（不得以扫描日期代替）', { field: 'metadata.documentDate' });
  }
  const chosenKind = body.classification?.accountingRuleId;
  const rowAccounting = schedule.itemsById.get(targetRow)!.accounting ?? [];
  if (chosenKind !== undefined && !rowAccounting.includes(chosenKind)) {
    throw invalid(`classification.accountingRuleId ${chosenKind}: row ${targetRow} allows ${rowAccounting.join(', ') || 'none'}`, `条目 ${targetRow} 不适用会计档案类别 ${chosenKind}`, { field: 'classification.accountingRuleId' });
  }
  if (body.classification || changes.documentDate || body.confirm) {
    // An archivist's accounting kind stands; otherwise keep the one recorded (a confirmation does not re-guess).
    const kind = chosenKind ?? (body.classification && body.classification.item !== previous?.item ? undefined : (previous?.accountingRuleId ?? undefined));
    const { decision } = decideRetention(schedule, targetRow, formedOn, text, kind);
    const corrected = body.classification !== undefined && body.classification.item !== previous?.item;
    cls = describeDecision(schedule, targetRow, decision, {
      documentType: corrected ? null : (previous?.documentType ?? null),
      confidence: 1,
      source: corrected ? 'archivist' : (previous?.source ?? 'archivist'),
      candidates: previous?.candidates ?? [],
      needsReview: false,
      reason: null,
    });
    if (corrected) changes.classification = { from: previous?.item ?? null, to: targetRow };
  }

  // 档号: issue on first confirmation; keep it when the class is unchanged; refuse a class change.
  let archivalCode = item.archivalCode ?? null;
  let archivalClass = item.archivalClass ?? null;
  const fmt = archivalFormat(rt);
  const wantedClass = fmt.classKey(archivalParts(rt, item, cls!, md, formedOn));
  if (archivalCode && archivalClass !== wantedClass) {
    throw new AppError('conflict', {
      message: `The item already has 档号 ${archivalCode}; this correction would move it to class ${wantedClass}. Numbers are never reused: withdraw the number first (archive number withdraw ${itemId} --reason …).`,
      zh: `该条目已分配档号 ${archivalCode}，此更正会使其归入另一类别（${wantedClass}）。件号不得重号，请先撤销档号（archive number withdraw）。`,
      details: { archivalCode, from: archivalClass, to: wantedClass },
    });
  }
  if (!archivalCode) {
    const a = await assignArchivalCode(rt, item, cls!, md, formedOn);
    archivalCode = a.code;
    archivalClass = a.classKey;
    changes.archivalCode = { from: null, to: archivalCode };
  }

  const updated = await writeDescription(
    rt,
    item,
    { metadata: md, classification: cls!, archivalCode, archivalClass, status: 'filed' },
    { actor, kind: Object.keys(changes).length ? 'correction' : 'confirmation', changes },
  );
  await learn(rt, itemId, targetRow, text);
  // Search must reflect the corrected description at once (names, type, 档号 are indexed).
  await indexItem(rt, itemId).catch((err: unknown) => rt.logger.error({ err, itemId }, 'reindexing a corrected item failed; run archive reindex'));
  await protectItem(rt, updated);
  return updated;
}

/**
 * 密级/开放范围变更: sets an item's access level (one of the configured clearance labels, lowest
 * first). Readers whose clearance is below it lose access at once, search included; the change
 * is kept in the item's history.
 *
 * Search never shows an item at a lower level than it has (#13.12): before a raise the item is
 * taken out of search (if that fails, nothing is changed and the caller gets the error); after
 * the write it is indexed again at the new level, tried three times. If that still fails it stays
 * out of search — hidden, never shown at the old level — until `archive reindex`, and the failure
 * is logged and audited rather than swallowed. A lowered level that fails to reindex keeps the
 * old, higher level in search: fewer readers, never more.
 */
export async function setAccessLevel(rt: Runtime, itemId: string, level: string, actor: string): Promise<ItemDoc> {
  const rank = rt.config.clearanceLevels.indexOf(level);
  if (rank < 0) throw invalid(`level must be one of ${rt.config.clearanceLevels.join(', ')}`, `密级须为 ${rt.config.clearanceLevels.join('、')} 之一`, { field: 'level' });
  const item = await loadItem(rt, itemId);
  if (!STATUS.levelable.has(item.status)) {
    throw new AppError('conflict', { message: `Item is ${item.status}`, zh: `条目状态为 ${item.status}，不能变更密级`, details: { status: item.status } });
  }
  const from = itemLevel(item);
  if (rank > from) {
    await removeItem(rt, itemId).catch((err: unknown) => {
      throw new AppError('service_unavailable', { message: 'The search index could not be updated; the level was not changed, try again', zh: '检索索引暂不可更新，密级未变更，请重试', cause: err });
    });
  }
  const updated = await writeAccessLevel(rt, item, rank, { actor, kind: 'access_level', changes: { accessLevel: { from: rt.config.clearanceLevels[from] ?? from, to: level } } });
  let lastErr: unknown = null;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      await indexItem(rt, itemId);
      return updated;
    } catch (err) {
      lastErr = err;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
  rt.logger.error({ err: lastErr, itemId }, rank > from ? 'reindexing after an access-level raise failed: the item stays out of search until archive reindex' : 'reindexing after an access-level change failed: search keeps the higher old level until archive reindex');
  await rt.audit.record({ actor, action: 'search.index', object: { type: 'item', id: itemId }, outcome: 'failure', details: { after: 'access_level', level, hiddenFromSearch: rank > from } });
  return updated;
}
