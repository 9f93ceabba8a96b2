/**
 * A document-type classifier that learns from the items archivists confirm or correct, like
 * paperless-ngx's auto-matching, but built for Chinese: features are character bigrams (no
 * word boundaries needed), hashed with a secret key so stored training data does not reveal
 * the text. Multinomial naive Bayes: fast to retrain on every correction, and its posterior is a
 * usable confidence.
 */
import { createHmac } from 'node:crypto';

export const FEATURE_BUCKETS = 1 << 18;

/** Keyed feature hashing of CJK bigrams and ASCII words: text → sparse counts. */
export function featurize(text: string, key: Buffer): Map<number, number> {
  const counts = new Map<number, number>();
  const add = (token: string) => {
    const h = createHmac('sha256', key).update(token).digest().readUInt32BE(0) % FEATURE_BUCKETS;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  };
  const cjk = text.replace(/[^\u3400-\u9fff]+/g, '|');
  for (const run of cjk.split('|')) {
    const chars = [...run];
    for (let i = 0; i + 1 < chars.length; i++) add(chars[i]! + chars[i + 1]!);
  }
  for (const w of text.toLowerCase().match(/[a-z]{3,}/g) ?? []) add(`w:${w}`);
  return counts;
}

export interface Example {
  label: string;
  features: Map<number, number>;
}

export interface Prediction {
  label: string;
  confidence: number;
  ranking: Array<{ label: string; p: number }>;
}

export class NaiveBayes {
  private readonly labelDocs = new Map<string, number>();
  private readonly labelTotals = new Map<string, number>();
  private readonly featureCounts = new Map<string, Map<number, number>>();
  private vocabulary = new Set<number>();
  private docs = 0;

  constructor(private readonly alpha = 0.1) {}

  get size(): number {
    return this.docs;
  }

  get labels(): string[] {
    return [...this.labelDocs.keys()];
  }

  add(ex: Example): void {
    this.docs++;
    this.labelDocs.set(ex.label, (this.labelDocs.get(ex.label) ?? 0) + 1);
    let fc = this.featureCounts.get(ex.label);
    if (!fc) this.featureCounts.set(ex.label, (fc = new Map()));
    let total = this.labelTotals.get(ex.label) ?? 0;
    for (const [f, c] of ex.features) {
      fc.set(f, (fc.get(f) ?? 0) + c);
      total += c;
      this.vocabulary.add(f);
    }
    this.labelTotals.set(ex.label, total);
  }

  /** Null until at least two labels have examples: one label teaches nothing. */
  predict(features: Map<number, number>): Prediction | null {
    if (this.labelDocs.size < 2) return null;
    const v = this.vocabulary.size;
    const scores: Array<{ label: string; s: number }> = [];
    for (const [label, n] of this.labelDocs) {
      const fc = this.featureCounts.get(label)!;
      const denom = Math.log((this.labelTotals.get(label) ?? 0) + this.alpha * v);
      let s = Math.log(n / this.docs);
      for (const [f, c] of features) s += c * (Math.log((fc.get(f) ?? 0) + this.alpha) - denom);
      scores.push({ label, s });
    }
    const max = Math.max(...scores.map((x) => x.s));
    const exp = scores.map((x) => ({ label: x.label, e: Math.exp(x.s - max) }));
    const sum = exp.reduce((a, b) => a + b.e, 0);
    const ranking = exp.map((x) => ({ label: x.label, p: x.e / sum })).sort((a, b) => b.p - a.p);
    return { label: ranking[0]!.label, confidence: ranking[0]!.p, ranking: ranking.slice(0, 5) };
  }
}
