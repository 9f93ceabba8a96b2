/**
 * The filterable and facetable fields of every loaded item as small integers in flat typed arrays,
 * indexed by the engine-wide item number. A common word matches tens of thousands of items; with
 * strings, closures and Maps per item, filtering and facet counting cost more than ranking and
 * left garbage that made the collector pause queries.
 */
import type { SegItem } from './segment';
import type { FacetField } from './types';

export const SINGLE_FIELDS = ['documentType', 'category', 'retention', 'fonds', 'year'] as const;
type SingleField = (typeof SINGLE_FIELDS)[number];

/** One field's values: string ↔ id. */
export class Dictionary {
  readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  id(v: string): number {
    let id = this.ids.get(v);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(v);
      this.ids.set(v, id);
    }
    return id;
  }
  /** 1 at the ids of the given values (unknown values match nothing), or null: no restriction. */
  allowed(values: readonly string[] | undefined): Uint8Array | null {
    if (!values?.length) return null;
    const a = new Uint8Array(this.values.length + 1);
    for (const v of values) {
      const id = this.ids.get(v);
      if (id !== undefined) a[id] = 1;
    }
    return a;
  }
}

function grow<T extends Int32Array | Uint32Array | Uint8Array>(a: T, need: number, fill?: number): T {
  if (need <= a.length) return a;
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2, 1024));
  if (fill !== undefined) b.fill(fill);
  b.set(a);
  return b;
}

export class FacetTable {
  readonly dict: Record<FacetField, Dictionary> = {
    documentType: new Dictionary(),
    category: new Dictionary(),
    retention: new Dictionary(),
    fonds: new Dictionary(),
    year: new Dictionary(),
    insurance: new Dictionary(),
  };
  /** value id per item, -1 = none */
  single: Record<SingleField, Int32Array> = {
    documentType: new Int32Array(0),
    category: new Int32Array(0),
    retention: new Int32Array(0),
    fonds: new Int32Array(0),
    year: new Int32Array(0),
  };
  /** the year as a number (NO_YEAR = none), for range filters */
  yearNum = new Int32Array(0);
  /** document date as yyyymmdd (0 = none), for sorting by date */
  dateNum = new Int32Array(0);
  access = new Int32Array(0);
  /** insurance types: ids in insPool[insStart[i] .. insStart[i] + insLen[i]) */
  insStart = new Uint32Array(0);
  insLen = new Uint8Array(0);
  insPool = new Int32Array(0);
  private insUsed = 0;

  add(i: number, it: SegItem): void {
    const need = i + 1;
    for (const f of SINGLE_FIELDS) this.single[f] = grow(this.single[f], need, -1);
    this.yearNum = grow(this.yearNum, need);
    this.dateNum = grow(this.dateNum, need);
    this.access = grow(this.access, need);
    this.insStart = grow(this.insStart, need);
    this.insLen = grow(this.insLen, need);
    const set = (f: SingleField, v: string | null) => {
      this.single[f][i] = v === null || v === '' ? -1 : this.dict[f].id(v);
    };
    set('documentType', it.documentType);
    set('category', it.category);
    set('retention', it.retention);
    set('fonds', it.fonds);
    set('year', it.year === null ? null : String(it.year));
    this.yearNum[i] = it.year ?? NO_YEAR;
    this.dateNum[i] = dateNumber(it.date);
    this.access[i] = it.access;
    const ins = it.insurance.slice(0, 255);
    this.insPool = grow(this.insPool, this.insUsed + ins.length);
    this.insStart[i] = this.insUsed;
    this.insLen[i] = ins.length;
    for (const v of ins) this.insPool[this.insUsed++] = this.dict.insurance.id(v);
  }
}

export const NO_YEAR = -2147483648;

/** 2020-05-06 → 20200506; anything else 0 (sorts last when newest come first). */
export function dateNumber(d: string | null): number {
  const m = d ? /^(\d{4})-(\d{2})-(\d{2})/.exec(d) : null;
  return m ? Number(m[1]) * 10000 + Number(m[2]) * 100 + Number(m[3]) : 0;
}
