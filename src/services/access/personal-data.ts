/**
 * 个人信息 in what the system shows: 公民身份号码 are masked (110105********2318) for accounts
 * without the 'personal.full' permission, in every JSON or text answer (item views, OCR text,
 * search snippets, person files, catalogues, the audit trail's queries) and CLI output; where the
 * full value is shown, the showing is recorded (个人信息保护法 第51条: 去标识化, access records).
 */
import { containsIdNumber, maskIdNumbersInText } from '../../domain/id-number';

/** A copy of a JSON-like value with every ID-number-shaped string masked, and how many strings changed. */
export function maskPersonalData<T>(value: T): { value: T; masked: number } {
  let masked = 0;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const m = maskIdNumbersInText(v);
      if (m !== v) masked++;
      return m;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x);
      return out;
    }
    return v;
  };
  const out = walk(value) as T;
  return { value: out, masked };
}

/** Whether a JSON-like value shows any ID number in full. */
export function showsIdNumbers(value: unknown): boolean {
  if (typeof value === 'string') return containsIdNumber(value);
  if (Array.isArray(value)) return value.some(showsIdNumbers);
  if (value && typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) return Object.values(value).some(showsIdNumbers);
  return false;
}
