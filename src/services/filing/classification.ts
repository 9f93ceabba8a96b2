/**
 * Document type → appendix row → category and retention. Two opinions: the reviewed title
 * patterns kept beside the schedule (retention-rules/), and a classifier trained on what
 * archivists confirmed. When they disagree, or neither is sure, the item goes to review rather
 * than being filed on a guess.
 */
import { evaluate, matchTitle, resolveAccountingKind, type RetentionDecision, type Schedule } from '../../../retention-rules';
import { classifierExampleModel } from '../../models/classifier-example.model';
import type { Runtime } from '../../runtime';
import { featurize, NaiveBayes, type Prediction } from './classifier';
import { indexKey, invalidateEverywhere, stampedCache } from '../platform';
import type { Classification } from '../records';
import { scheduleFor } from './schedule';

export const REVIEW_THRESHOLD = 0.75;

export type { Classification } from '../records';

// Trained from every confirmed example; rebuilt in every process when any process learns.
const CLASSIFIER_CACHE = 'classifier';
const model = stampedCache(CLASSIFIER_CACHE, async (rt): Promise<NaiveBayes> => {
  const nb = new NaiveBayes();
  for (const ex of await classifierExampleModel(rt.db).find({}).lean()) {
    const f = new Map<number, number>();
    for (let i = 0; i + 1 < ex.features.length; i += 2) f.set(ex.features[i]!, ex.features[i + 1]!);
    nb.add({ label: ex.label, features: f });
  }
  return nb;
});

/** A confirmed or corrected item teaches the classifier (stored as keyed hashes, not text). */
export async function learn(rt: Runtime, itemId: string, label: string, text: string): Promise<void> {
  const features = featurize(text, await indexKey(rt));
  const flat: number[] = [];
  for (const [b, c] of features) flat.push(b, c);
  await classifierExampleModel(rt.db).replaceOne({ _id: itemId }, { _id: itemId, label, features: flat, at: new Date() }, { upsert: true });
  await invalidateEverywhere(rt, CLASSIFIER_CACHE); // retrain lazily on next use: cheap for naive Bayes
}

/**
 * For 会计档案 rows (KJ): every 《会计档案管理办法》 sub-rule the text has a cue for. Which one
 * applies is decided by retention-rules' resolveAccountingKind: several cues (a voucher that
 * mentions 季度) or none never pick a shorter period — the longest candidate, and a review.
 */
export function accountingCues(text: string, allowed: readonly string[]): string[] {
  const cues: Array<[string, RegExp]> = [
    ['report-annual', /年度.{0,6}(报告|报表|决算)|决算表/u],
    ['report-periodic', /(月度|季度|半年度|[月季]报)/u],
    ['bank-statement', /对账单|余额调节表|纳税申报/u],
    ['ledger', /账簿|总账|明细账|日记账/u],
    ['voucher', /凭证|付款|收据|发票/u],
  ];
  return cues.filter(([id, re]) => allowed.includes(id) && re.test(text)).map(([id]) => id);
}

/**
 * Retention of one record under `schedule`. `formedOn` null (no formation date found) gives no
 * due date; the caller sends the item to review. `accountingRuleId` is an archivist's choice.
 */
export function decideRetention(
  schedule: Schedule,
  itemId: string,
  formedOn: string | null,
  text: string,
  accountingRuleId?: string,
): { decision: RetentionDecision; unclearAccounting: boolean } {
  const row = schedule.itemsById.get(itemId)!;
  let unclearAccounting = false;
  if (row.retention === 'KJ' && accountingRuleId === undefined) {
    const kind = resolveAccountingKind(schedule, itemId, accountingCues(text, row.accounting ?? []));
    accountingRuleId = kind.accountingRuleId;
    unclearAccounting = !kind.certain;
  }
  return { decision: evaluate(schedule, { itemId, formedOn, accountingRuleId }), unclearAccounting };
}

export function describeDecision(
  schedule: Schedule,
  itemId: string,
  decision: RetentionDecision,
  base: Pick<Classification, 'documentType' | 'confidence' | 'source' | 'candidates'> & { needsReview: boolean; reason: string | null },
): Classification {
  const row = schedule.itemsById.get(itemId)!;
  const category = schedule.categories.find((c) => c.id === row.category) ?? null;
  return {
    documentType: base.documentType ?? row.name,
    category: row.category,
    categoryName: category?.name ?? null,
    item: row.id,
    itemName: row.name,
    retention: decision.retention,
    scheduleRetention: decision.scheduleRetention,
    accountingRuleId: decision.accountingRuleId,
    dueOn: decision.dueOn,
    provisional: decision.provisional,
    citation: decision.citation,
    scheduleVersion: decision.scheduleVersion,
    confidence: base.confidence,
    source: base.source,
    needsReview: base.needsReview,
    reason: base.reason,
    candidates: base.candidates,
  };
}

export async function classify(rt: Runtime, input: { title: string | null; text: string; formedOn: string | null }): Promise<Classification> {
  const schedule = scheduleFor(rt);
  const rules = matchTitle(`${input.title ?? ''}\n${input.text}`, { limit: 3 });
  const nb = await model(rt);
  const learned: Prediction | null = nb.predict(featurize(input.text, await indexKey(rt)));
  const r = rules[0];
  const c = learned && learned.confidence >= 0.5 ? learned : null;
  const candidates = [
    ...rules.map((x) => ({ item: x.itemId, score: x.score, by: 'rules' as const })),
    ...(learned?.ranking.slice(0, 3).map((x) => ({ item: x.label, score: Math.round(x.p * 1000) / 1000, by: 'classifier' as const })) ?? []),
  ];
  let itemId: string | null = null;
  let confidence = 0;
  let source: Classification['source'] = 'none';
  let reason: string | null = null;
  if (r && c && r.itemId === c.label) {
    itemId = r.itemId;
    confidence = 1 - (1 - r.score) * (1 - c.confidence);
    source = 'both';
  } else if (r && c && c.confidence >= 0.8 && r.score < 0.9) {
    itemId = r.itemId;
    confidence = Math.min(r.score, 1 - c.confidence);
    source = 'rules';
    reason = `title rules say ${r.itemId}, the learned classifier says ${c.label}`;
  } else if (r) {
    itemId = r.itemId;
    confidence = r.score;
    source = 'rules';
  } else if (c) {
    itemId = c.label;
    confidence = c.confidence * 0.9;
    source = 'classifier';
  }
  if (!itemId || !schedule.itemsById.has(itemId)) {
    return {
      documentType: input.title, category: null, categoryName: null, item: null, itemName: null, retention: null, scheduleRetention: null,
      accountingRuleId: null, dueOn: null, provisional: false, citation: null, scheduleVersion: schedule.versionId,
      confidence: 0, source: 'none', needsReview: true, reason: 'no rule or learned example matches this document', candidates,
    };
  }
  const { decision, unclearAccounting } = decideRetention(schedule, itemId, input.formedOn, input.text);
  if (unclearAccounting) reason = reason ?? 'accounting record: the 会计档案 sub-rule is unclear (several kinds or none named), the longest candidate period was applied';
  // 3号令 第九条 counts the period from the year after formation, and the 档号's 年度 is the
  // formation year: without a formation date a person must supply it (never the scan date).
  if (input.formedOn === null) reason = reason ?? 'no formation date (形成日期) was found: record it before the item is numbered';
  const needsReview = confidence < REVIEW_THRESHOLD || reason !== null;
  if (needsReview && !reason) reason = `confidence ${confidence.toFixed(2)} is below ${REVIEW_THRESHOLD}`;
  return describeDecision(schedule, itemId, decision, {
    documentType: r?.matched[0] ?? null,
    confidence: Math.round(confidence * 1000) / 1000,
    source,
    candidates,
    needsReview,
    reason,
  });
}
