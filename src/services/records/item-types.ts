/**
 * The shapes an item's description takes once filing has read it: the extracted metadata (with
 * evidence pointing back into the OCR text) and the classification (appendix row, retention,
 * 档号 inputs). Owned here, by the records room, so that every room reads one definition.
 */
import type { PeriodCode } from '../../../retention-rules';
import type { TextLine } from '../../domain/date-lines';

export interface PageText {
  n: number;
  text: string;
  confidence: number;
  lines: TextLine[];
}

export interface Evidence {
  page: number;
  start: number;
  end: number;
  bbox: TextLine['bbox'] | null;
  confidence: number;
  raw?: string;
}

export interface ExtractedMetadata {
  title: string | null;
  persons: Array<{ name: string | null; idNumber: string | null; evidence: Evidence[] }>;
  clerks: Array<{ name: string; label: string; evidence: Evidence }>;
  units: Array<{ name: string | null; creditCode: string | null; evidence: Evidence[] }>;
  documentDate: string | null;
  documentDateEvidence: Evidence | null;
  docNumber: string | null;
  amounts: Array<{ value: number; evidence: Evidence }>;
  insuranceTypes: string[];
}

export interface Classification {
  documentType: string | null;
  category: string | null;
  categoryName: string | null;
  item: string | null;
  itemName: string | null;
  retention: PeriodCode | null;
  scheduleRetention: string | null;
  accountingRuleId: string | null;
  dueOn: string | null;
  provisional: boolean;
  citation: string | null;
  scheduleVersion: string;
  confidence: number;
  source: 'rules' | 'classifier' | 'both' | 'archivist' | 'none';
  needsReview: boolean;
  reason: string | null;
  /** Ranked appendix rows: by the title patterns (rules), a title read with a misread character (title-fuzzy), body cues (body), or the learned classifier. */
  candidates: Array<{ item: string; score: number; by: 'rules' | 'title-fuzzy' | 'body' | 'classifier' }>;
}
