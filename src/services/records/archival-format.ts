/**
 * The agency's 档号 format (DA/T 22-2015 §6: 全宗号-年度-保管期限-机构/问题-件号, configured as a
 * template), compiled once per template. Filing writes codes with it; the item view parses them.
 */
import { createArchivalCodeFormat, DEFAULT_FIELDS, type ArchivalCodeFormat } from '../../domain/archival-code';
import type { Runtime } from '../../runtime';

const formats = new Map<string, ArchivalCodeFormat>();
export function archivalFormat(rt: Runtime): ArchivalCodeFormat {
  const t = rt.config.archivalCode.template;
  let f = formats.get(t);
  if (!f) {
    f = createArchivalCodeFormat({ template: t, fields: { ...DEFAULT_FIELDS, fonds: { pattern: '[0-9A-Z]{1,8}' } } });
    formats.set(t, f);
  }
  return f;
}
