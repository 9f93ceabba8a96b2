/**
 * Filing: an OCRed item is described (extraction), classified against the regulation's appendix,
 * given its retention and appraisal-due date, and — when the proposal is confident — its 档号
 * with the next gapless 件号 of its class. Unsure proposals wait in review for an archivist; they
 * take no number, so review never leaves holes in the numbering.
 */
import { CATEGORY_INSURANCE, CATEGORY_STAGE } from '../../domain/archival-code';
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { archivalFormat, protectItem, readPageTexts, STATUS, writeDescription, type KnownItem, type StoredPageText } from '../records';
import { classify, type Classification } from './classification';
import { extractMetadata, type ExtractedMetadata, type PageText } from './extraction';
import { issueNumber } from './numbering';


export function archivalParts(rt: Runtime, item: Pick<ItemDoc, 'fonds'>, cls: Classification, md: Pick<ExtractedMetadata, 'insuranceTypes'>, formedOn: string): Record<string, string> {
  const rowSuffix = (cls.item ?? '').split('-')[1] ?? '00';
  return {
    fonds: item.fonds,
    category: rt.config.archivalCode.categoryCode,
    year: formedOn.slice(0, 4),
    period: cls.retention!,
    insurance: CATEGORY_INSURANCE[cls.category ?? ''] ?? md.insuranceTypes[0] ?? 'ZH',
    stage: `${CATEGORY_STAGE[cls.category ?? ''] ?? 'QT'}${rowSuffix}`,
    org: `${CATEGORY_STAGE[cls.category ?? ''] ?? 'QT'}${rowSuffix}`,
  };
}

/** Gives the item its 档号 (idempotent: a retry gets the same 件号). */
export async function assignArchivalCode(rt: Runtime, item: ItemDoc, cls: Classification, md: Pick<ExtractedMetadata, 'insuranceTypes'>, formedOn: string): Promise<{ code: string; classKey: string }> {
  const fmt = archivalFormat(rt);
  const parts = archivalParts(rt, item, cls, md, formedOn);
  const classKey = fmt.classKey(parts);
  const piece = await issueNumber(rt.db, classKey, String(item._id));
  return { code: fmt.format({ ...parts, piece }), classKey };
}

export async function loadPageTexts(rt: Runtime, item: ItemDoc, known?: ReadonlyMap<number, StoredPageText>): Promise<PageText[]> {
  return (await readPageTexts(rt, item, known)).map((t) => ({ n: t.n, text: t.text, confidence: t.confidence, lines: t.lines ?? [] }));
}

/** `known`: what the caller holds of the item (the item pipeline, straight after capture). */
export async function fileItem(rt: Runtime, itemId: string, known: KnownItem = {}): Promise<ItemDoc> {
  const item = known.item ?? (await itemModel(rt.db).findById(itemId).lean<ItemDoc>());
  if (!item || STATUS.described.has(item.status)) return item!;
  const pages = await loadPageTexts(rt, item, known.texts);
  const md = extractMetadata(pages, item.preregistered as { idNumber?: string; name?: string } | null);
  // The formation date only: the scan date (createdAt) would start the retention clock and set the
  // 档号's 年度 wrongly (3号令 第九条; DA/T 22-2015 年度 = year of formation). None → review.
  const formedOn = md.documentDate ?? null;
  const text = pages.map((p) => p.text).join('\n');
  const cls = await classify(rt, { title: md.title, text, formedOn });
  let archivalCode: string | null = null;
  let archivalClass: string | null = null;
  if (!cls.needsReview && cls.retention && formedOn) {
    const a = await assignArchivalCode(rt, item, cls, md, formedOn);
    archivalCode = a.code;
    archivalClass = a.classKey;
  }
  const status = cls.needsReview ? 'review' : 'filed';
  const filed = await writeDescription(rt, item, { metadata: md, classification: cls, archivalCode, archivalClass, status, filedAt: new Date() }, { actor: 'system', kind: 'proposed', changes: { status, item: cls.item, archivalCode } });
  // Object lock until the appraisal date (issue #11 §5): a credential with delete rights cannot remove it early.
  if (status === 'filed') await protectItem(rt, filed);
  return filed;
}
