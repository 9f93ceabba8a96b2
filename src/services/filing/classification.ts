/**
 * Document type → appendix row → category and retention. Two opinions: the reviewed title
 * patterns kept beside the schedule (retention-rules/), and a classifier trained on what
 * archivists confirmed. When they disagree, or neither is sure, the item goes to review rather
 * than being filed on a guess.
 */
import { evaluate, fuzzyMatchTitle, matchTitle, resolveAccountingKind, type RetentionDecision, type Schedule } from '../../../retention-rules';
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

/**
 * Body cues: words that recur in the body of one kind of document. They decide only when the
 * title is missing, unreadable or ambiguous (an archivist reads the title first: a 参保人员登记表
 * that mentions 缴费基数 is still a registration form).
 */
const BODY_CUES: Array<[RegExp, string]> = [
  [/稽核/gu, '9-01'],
  [/工伤认定/gu, '6-02'],
  [/事故备案/gu, '6-01'],
  [/伤残(等级|津贴)|工亡补助/gu, '6-04'],
  [/失业保险金/gu, '5-03'],
  // A registration form is its fields (民族, 参保险种, 户籍 …); 缴费基数 is also a field on many forms, so it cues only weakly.
  [/参保险种|参保日期|户口性质|户籍(性质|所在地)|民族/gu, '1-02'],
  [/缴费基数(申报|核定)|申报缴费基数/gu, '2-P1'],
  [/补缴/gu, '2-P3'],
  [/欠费|催缴|追缴/gu, '2-P4'],
  [/基本养老金|退休审批/gu, '3-P1'],
  [/生育津贴/gu, '7-03'],
  [/社会保障卡|社保卡/gu, '1-05'],
  [/门诊/gu, '4-04'],
  [/住院/gu, '4-P1'],
  [/关系转移|转移接续/gu, '1-P1'],
];

type RuleVia = 'title' | 'title-fuzzy' | 'body';
/** `found`: what the title patterns found (see TitleCandidate), the name for 文件类型; body cues add none. */
interface RuleOpinion { itemId: string; score: number; matched: string[]; found: string[]; via: RuleVia }

/** The title zone: the extracted title, else the first two lines (where a form's title sits); the rest is body. */
function titleZone(title: string | null, text: string): { zone: string; body: string } {
  const lines = text.split('\n');
  if (title) {
    const at = lines.findIndex((l) => l.replace(/\s+/gu, '').includes(title));
    return { zone: title, body: lines.filter((_, i) => i !== at).join('\n') };
  }
  return { zone: lines.slice(0, 2).join('\n'), body: lines.slice(2).join('\n') };
}

const noisyOr = (xs: number[]) => 1 - xs.reduce((m, x) => m * (1 - x), 1);

/**
 * What the reviewed patterns say, weighed as an archivist does: an unambiguous title decides;
 * a title with a misread character or two still counts (fuzzy, discounted); body cues decide only
 * without a usable title, and otherwise only confirm. Returns the opinion and every ranked candidate.
 */
export function ruleOpinion(title: string | null, text: string): { top: RuleOpinion | null; candidates: RuleOpinion[]; ambiguousTitle: boolean } {
  const { zone, body } = titleZone(title, text);
  const exact: RuleOpinion[] = matchTitle(zone, { limit: 5 }).map((c) => ({ ...c, via: 'title' }));
  const fuzzy: RuleOpinion[] = exact.length ? [] : fuzzyMatchTitle(zone, { limit: 5 }).map((c) => ({ ...c, via: 'title-fuzzy' }));
  const bodyScores = new Map<string, { parts: number[]; matched: string[]; found: string[] }>();
  const add = (itemId: string, score: number, label: string, found?: string) => {
    const e = bodyScores.get(itemId) ?? { parts: [], matched: [], found: [] };
    e.parts.push(score);
    e.matched.push(label);
    if (found) e.found.push(found);
    bodyScores.set(itemId, e);
  };
  // A title pattern met in the body is weaker evidence than in the title (a form cites other forms).
  for (const c of matchTitle(body)) add(c.itemId, c.score * 0.6, c.matched[0] ?? '', c.found[0]);
  for (const c of exact.length ? [] : fuzzyMatchTitle(body, { limit: 5 })) add(c.itemId, c.score * 0.5, `~${c.matched[0] ?? ''}`, c.found[0]);
  for (const [re, itemId] of BODY_CUES) {
    const n = (text.match(re) ?? []).length;
    if (n) add(itemId, Math.min(0.8, noisyOr(new Array<number>(n).fill(0.3))), re.source);
  }
  const bodyOps: RuleOpinion[] = [...bodyScores]
    .map(([itemId, e]) => ({ itemId, score: Math.round(Math.min(0.85, noisyOr(e.parts)) * 1000) / 1000, matched: e.matched, found: e.found, via: 'body' as const }))
    .sort((a, b) => b.score - a.score || a.itemId.localeCompare(b.itemId));
  const titleOps = exact.length ? exact : fuzzy;
  const t = titleOps[0];
  const second = titleOps.find((x) => x.itemId !== t?.itemId);
  const ambiguousTitle = !!t && !!second && second.score >= t.score - 0.1;
  const bodyFor = (itemId: string) => bodyOps.find((b) => b.itemId === itemId)?.score ?? 0;
  let top: RuleOpinion | null = null;
  if (t && !ambiguousTitle && t.via === 'title' && t.score >= 0.8) {
    // An unambiguous title decides; the body can only add to it.
    top = { ...t, score: noisyOr([t.score, bodyFor(t.itemId) * 0.5]) };
  } else if (t) {
    // A weak, misread or ambiguous title: the body picks among the title's candidates, and a title
    // the body does not support at all stays below the filing threshold.
    const ranked = titleOps
      .map((x) => ({ ...x, score: bodyFor(x.itemId) ? noisyOr([x.score, bodyFor(x.itemId)]) : x.score * (x.via === 'title' && !ambiguousTitle ? 1 : 0.85) }))
      .sort((a, b) => b.score - a.score);
    top = ranked[0]!;
  } else if (bodyOps[0]) {
    // No title at all: the body decides, never with the certainty of a title.
    top = { ...bodyOps[0], score: bodyOps[0].score * 0.9 };
  }
  if (top) top.score = Math.round(top.score * 1000) / 1000;
  const seen = new Set<string>();
  const candidates = [top, ...titleOps, ...bodyOps].filter((x): x is RuleOpinion => !!x && !seen.has(x.itemId) && !!seen.add(x.itemId));
  return { top, candidates, ambiguousTitle };
}

export async function classify(rt: Runtime, input: { title: string | null; text: string; formedOn: string | null }): Promise<Classification> {
  const schedule = scheduleFor(rt);
  const opinion = ruleOpinion(input.title, input.text);
  const nb = await model(rt);
  const learned: Prediction | null = nb.predict(featurize(input.text, await indexKey(rt)));
  const r = opinion.top;
  const c = learned && learned.confidence >= 0.5 ? learned : null;
  // Ranked, for the archivist who reviews an unsure item.
  const candidates = [
    ...opinion.candidates.slice(0, 5).map((x) => ({ item: x.itemId, score: x.score, by: (x.via === 'title' ? 'rules' : x.via) as 'rules' | 'title-fuzzy' | 'body' })),
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
    // What the title says it is (a regular expression's source or a body cue is no name), the most
    // specific of what the patterns found (社会保障卡申领 over 社会保障卡); none found, and
    // describeDecision names it by its schedule row.
    documentType: r?.found.reduce<string | null>((a, f) => (a === null || [...f].length > [...a].length ? f : a), null) ?? null,
    confidence: Math.round(confidence * 1000) / 1000,
    source,
    candidates,
    needsReview,
    reason,
  });
}
