/**
 * Proposes an item's description from its OCR text: persons (name + 公民身份号码), units (name +
 * 统一社会信用代码), the document's date, 文号, amounts, 险种 and title. Every field carries where
 * it was found (page, character range, the line's box) and how sure we are.
 */
import { extractCreditCodes } from '../../domain/credit-code';
import { extractDates } from '../../domain/dates';
import { extractDocNumbers } from '../../domain/doc-number';
import { agreedIdNumber, extractIdNumbers, idLikeRun, idLinesToReread, type IdNumberMatch } from '../../domain/id-number';
import { extractInsuranceTypes, extractLabelledNames, extractUnits } from '../../domain/labels';
import { agreedDate, lineDate, repairDateGlyphs, votingDates, type TextLine } from '../../domain/date-lines';
import type { Evidence, ExtractedMetadata, PageText } from '../records';

export type { Evidence, ExtractedMetadata, PageText } from '../records';
export type { TextLine } from '../../domain/date-lines';


function lineBox(page: PageText, start: number): { bbox: TextLine['bbox'] | null; confidence: number } {
  // Page text is the lines joined by newlines: walk to the line holding `start`.
  let at = 0;
  for (const line of page.lines) {
    const idx = page.text.indexOf(line.text, at);
    if (idx < 0) continue;
    if (start >= idx && start <= idx + line.text.length) return { bbox: line.bbox, confidence: line.confidence / 100 };
    at = idx + line.text.length;
  }
  return { bbox: null, confidence: page.confidence / 100 };
}

/** Each line with its character range in the page text (lines joined by newlines). */
function lineSpans(page: PageText): Array<{ line: TextLine; start: number; end: number }> {
  const out: Array<{ line: TextLine; start: number; end: number }> = [];
  let at = 0;
  for (const line of page.lines) {
    const idx = page.text.indexOf(line.text, at);
    if (idx < 0) continue;
    out.push({ line, start: idx, end: idx + line.text.length });
    at = idx + line.text.length;
  }
  return out;
}

/**
 * 公民身份号码 from second readings of lines whose number did not validate (idLinesToReread): the
 * number two or more readings agree on, placed at its line, at lower confidence than a direct
 * reading (scaled by how many agreed).
 */
function rereadIdNumbers(page: PageText): IdNumberMatch[] {
  const out: IdNumberMatch[] = [];
  const wanted = new Set(idLinesToReread(page.lines));
  for (const { line, start, end } of lineSpans(page)) {
    if (!line.rereads?.length || !wanted.has(line)) continue;
    const readings = [line.text, ...line.rereads.map((r) => r.text)];
    const agreed = agreedIdNumber(readings);
    if (!agreed) continue;
    const raw = readings.flatMap((r) => extractIdNumbers(r)).find((m) => m.value === agreed.value)!.raw;
    // At the misread run in the page text, so that a name before it on the same line pairs with it.
    const run = idLikeRun(line.text) ?? { start: 0, end: end - start };
    out.push({ value: agreed.value, raw, start: start + run.start, end: start + run.end, form: 18, repairs: [], confidence: Math.round(0.75 * (agreed.votes / agreed.of) * 1000) / 1000 });
  }
  return out;
}

const DATE_LABEL = /(日期|时间|于|落款)\s*[:：]?\s*$/u;

function evidence(page: PageText, start: number, end: number, fieldConfidence: number, raw?: string): Evidence {
  const { bbox, confidence } = lineBox(page, start);
  return { page: page.n, start, end, bbox, confidence: Math.round(Math.min(fieldConfidence, confidence || fieldConfidence) * 1000) / 1000, ...(raw ? { raw } : {}) };
}

const TITLE_ENDINGS = /(表|书|单|证明|通知|决定|报告|材料|清册|申请|登记|凭证|协议|函|批复|意见)$/u;

/**
 * How many pages the 正文 takes: up to the first later page that opens with a title of its own (an
 * attachment: DA/T 22-2015 件内排序 puts the 正文 first and its 附件 after it). A page that only
 * repeats the item's title continues the same document (a form over several sheets).
 */
function mainDocumentPages(pages: PageText[], title: string | null): number {
  const own = title?.replace(/\s+/g, '') ?? '';
  for (let i = 1; i < pages.length; i++) {
    const first = pages[i]!.text.split('\n').map((l) => l.replace(/\s+/g, '')).find((l) => /[\u4e00-\u9fff]{3}/u.test(l));
    if (!first || first === own || /[:：]/u.test(first) || first.length > 30) continue;
    if (TITLE_ENDINGS.test(first) || /(笔录|记录)$/u.test(first)) return i;
  }
  return pages.length;
}

function pickTitle(pages: PageText[]): string | null {
  const first = pages.find((p) => p.text.trim());
  if (!first) return null;
  const lines = first.text.split('\n').map((l) => l.replace(/\s+/g, '')).filter((l) => /[\u4e00-\u9fff]{3}/u.test(l));
  return lines.slice(0, 5).find((l) => TITLE_ENDINGS.test(l) && l.length <= 40) ?? lines[0]?.slice(0, 40) ?? null;
}

const AMOUNT = /(?:金额|合计|总计|人民币|小写|[￥¥])\s*[:：]?\s*[￥¥]?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?\s*元?|(\d{1,3}(?:,\d{3})+|\d+)(\.\d{2})\s*元/gu;

export function extractMetadata(pages: PageText[], preregistered?: { idNumber?: string; name?: string; unit?: string } | null): ExtractedMetadata {
  const persons: ExtractedMetadata['persons'] = [];
  const clerks: ExtractedMetadata['clerks'] = [];
  const units: ExtractedMetadata['units'] = [];
  const amounts: ExtractedMetadata['amounts'] = [];
  const dates: Array<{ value: string; ev: Evidence; labelled: boolean; main: boolean }> = [];
  const title = pickTitle(pages);
  const mainPages = mainDocumentPages(pages, title);
  let docNumber: string | null = null;
  const allText = pages.map((p) => p.text).join('\n');

  for (const [pageIndex, page] of pages.entries()) {
    const main = pageIndex < mainPages;
    const ids = [...extractIdNumbers(page.text), ...rereadIdNumbers(page)].sort((a, b) => a.start - b.start);
    const names = extractLabelledNames(page.text);
    const used = new Set<number>();
    for (const nm of names) {
      if (nm.role === 'clerk') {
        clerks.push({ name: nm.name, label: nm.label, evidence: evidence(page, nm.start, nm.end, 0.9) });
        continue;
      }
      // The person's number is the nearest one after the name, in the same part of the form.
      const idx = ids.findIndex((m, i) => !used.has(i) && m.start > nm.end && m.start - nm.end < 240);
      const id = idx >= 0 ? ids[idx]! : undefined;
      if (idx >= 0) used.add(idx);
      const existing = persons.find((p) => p.name === nm.name && (p.idNumber === null || p.idNumber === id?.value || id === undefined));
      if (existing) {
        if (!existing.idNumber && id) existing.idNumber = id.value;
        existing.evidence.push(evidence(page, nm.start, nm.end, 0.9));
        if (id) existing.evidence.push(evidence(page, id.start, id.end, id.confidence, id.raw));
        continue;
      }
      persons.push({
        name: nm.name,
        idNumber: id?.value ?? null,
        evidence: [evidence(page, nm.start, nm.end, 0.9), ...(id ? [evidence(page, id.start, id.end, id.confidence, id.raw)] : [])],
      });
    }
    for (const [i, id] of ids.entries()) {
      if (used.has(i) || persons.some((p) => p.idNumber === id.value)) continue;
      persons.push({ name: null, idNumber: id.value, evidence: [evidence(page, id.start, id.end, id.confidence, id.raw)] });
    }
    const codes = extractCreditCodes(page.text);
    const codeUsed = new Set<number>();
    for (const u of extractUnits(page.text)) {
      const idx = codes.findIndex((c, i) => !codeUsed.has(i) && Math.abs(c.start - u.end) < 200);
      if (idx >= 0) codeUsed.add(idx);
      const c = idx >= 0 ? codes[idx] : undefined;
      units.push({ name: u.name, creditCode: c?.value ?? null, evidence: [evidence(page, u.start, u.end, 0.85), ...(c ? [evidence(page, c.start, c.end, c.confidence, c.raw)] : [])] });
    }
    for (const [i, c] of codes.entries()) {
      if (!codeUsed.has(i)) units.push({ name: null, creditCode: c.value, evidence: [evidence(page, c.start, c.end, c.confidence, c.raw)] });
    }
    const pageDates: typeof dates = [];
    for (const d of extractDates(repairDateGlyphs(page.text))) {
      if (d.precision !== 'day') continue;
      const before = page.text.slice(Math.max(0, d.start - 8), d.start);
      // A reading that needed a glyph repair is less sure than one OCR gave as is.
      const repaired = page.text.slice(d.start, d.end) !== d.raw;
      // A date alone on its line is the 落款 (成文日期), as sure a cue as a label.
      const lineStart = page.text.lastIndexOf('\n', d.start - 1) + 1;
      const lineEnd = page.text.indexOf('\n', d.end);
      const alone = !/[\p{L}\p{N}]/u.test(page.text.slice(lineStart, d.start) + page.text.slice(d.end, lineEnd < 0 ? undefined : lineEnd));
      pageDates.push({ value: d.value, ev: evidence(page, d.start, d.end, repaired ? 0.7 : 0.9, d.raw), labelled: alone || DATE_LABEL.test(before), main });
    }
    for (const { line, start, end } of lineSpans(page)) {
      if (!line.rereads?.length || lineDate(line.text) !== null) continue;
      // The first reading votes too: a year it only reads after a glyph repair needs a reread to agree.
      const readings = [{ text: line.text, confidence: line.confidence }, ...line.rereads];
      const agreed = agreedDate(readings.map((r) => r.text));
      if (!agreed) continue;
      const support = readings.filter((r) => votingDates(r.text).some((d) => d.value === agreed.value));
      const raw = support[0]!.text;
      const meanConfidence = support.reduce((a, r) => a + r.confidence, 0) / support.length / 100;
      // Lower than a direct reading (0.9): the value rests on rereads, scaled by how many agreed.
      const confidence = Math.round(Math.min(0.75, meanConfidence) * (agreed.votes / agreed.of) * 1000) / 1000;
      const at = votingDates(raw).find((d) => d.value === agreed.value)!;
      const labelled = DATE_LABEL.test(raw.slice(Math.max(0, at.start - 8), at.start)) || /日期|时间/u.test(line.text);
      pageDates.push({ value: agreed.value, ev: { page: page.n, start, end, bbox: line.bbox, confidence, raw }, labelled, main });
    }
    dates.push(...pageDates.sort((a, b) => a.ev.start - b.ev.start));
    if (!docNumber) docNumber = extractDocNumbers(page.text)[0]?.normalized ?? null;
    for (const m of page.text.matchAll(AMOUNT)) {
      const digits = (m[1] ?? m[3] ?? '').replace(/,/g, '') + (m[2] ?? m[4] ?? '');
      const value = Number(digits);
      if (Number.isFinite(value) && value > 0) amounts.push({ value, evidence: evidence(page, m.index!, m.index! + m[0].length, 0.8, m[0]) });
    }
  }

  if (preregistered?.idNumber) {
    // The separator sheet was printed from registered data: it outranks OCR.
    const p = persons.find((x) => x.idNumber === preregistered.idNumber);
    if (p) p.name ??= preregistered.name ?? null;
    else persons.unshift({ name: preregistered.name ?? null, idNumber: preregistered.idNumber, evidence: [] });
  }
  if (preregistered?.unit && !units.some((u) => u.name === preregistered.unit)) units.unshift({ name: preregistered.unit, creditCode: null, evidence: [] });

  // The formation date: the 正文's (its attachments' dates only when it has none); there a labelled
  // date (…日期：, or the 落款 alone on its line) if there is one, else the last date.
  const own = dates.some((d) => d.main) ? dates.filter((d) => d.main) : dates;
  const chosen = own.filter((d) => d.labelled).at(-1) ?? own.at(-1) ?? null;
  return {
    title,
    persons,
    clerks,
    units,
    documentDate: chosen?.value ?? null,
    documentDateEvidence: chosen?.ev ?? null,
    docNumber,
    amounts,
    insuranceTypes: extractInsuranceTypes(allText),
  };
}
