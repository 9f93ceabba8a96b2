/**
 * The 四性 check of a transfer package before it leaves and when it is verified (DA/T 70-2018
 * 移交与接收; GB/T 18894-2016): 真实性 (the signature over the tag manifest, every payload file's
 * SHA-256 = fixity), 完整性 (every item of the 移交清册 present with its metadata, PDF and
 * originals; nothing unlisted; Payload-Oxum), 可用性 (open formats: PDF, TIFF, JPEG, PNG, JPEG 2000,
 * well-formed XML; nothing encrypted), 安全性 (no active content: PDF JavaScript / launch actions /
 * embedded files, XML DOCTYPE or entities, executables).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface CheckFinding {
  aspect: '真实性' | '完整性' | '可用性' | '安全性';
  code: string;
  file?: string;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  checkedAt: string;
  files: number;
  bytes: number;
  items: number;
  aspects: Record<CheckFinding['aspect'], 'pass' | 'fail'>;
  findings: CheckFinding[];
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Open, long-term formats by their first bytes (DA/T 31-2017: TIFF/JPEG/JPEG2000; PDF for use). */
export function openFormatOf(head: Buffer): string | null {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (head.subarray(0, 4).equals(Buffer.from([0x49, 0x49, 0x2a, 0x00])) || head.subarray(0, 4).equals(Buffer.from([0x4d, 0x4d, 0x00, 0x2a]))) return 'tiff';
  if (head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head.subarray(4, 8).toString('latin1') === 'jP  ') return 'jp2';
  const text = head.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '');
  if (text.startsWith('<?xml')) return 'xml';
  return null;
}

const PDF_ACTIVE = /\/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|SubmitForm|ImportData)\b/;
const EXECUTABLE = [Buffer.from('MZ'), Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.from('#!')];

/** Active content or encryption in one payload file; empty when clean. */
export function contentFindings(rel: string, buf: Buffer): CheckFinding[] {
  const out: CheckFinding[] = [];
  const fmt = openFormatOf(buf.subarray(0, 64));
  const text = rel.endsWith('.csv') || rel.endsWith('.txt');
  if (EXECUTABLE.some((m) => buf.subarray(0, m.length).equals(m))) out.push({ aspect: '安全性', code: 'executable', file: rel, message: 'executable file in the package' });
  if (!fmt && !text) out.push({ aspect: '可用性', code: 'format_not_open', file: rel, message: 'not an open archival format (PDF, TIFF, JPEG, PNG, JPEG 2000, XML)' });
  if (fmt === 'pdf') {
    const s = buf.toString('latin1');
    const m = PDF_ACTIVE.exec(s);
    if (m) out.push({ aspect: '安全性', code: 'active_content', file: rel, message: `PDF has active content (/${m[1]})` });
    if (/\/Encrypt\b/.test(s)) out.push({ aspect: '可用性', code: 'encrypted', file: rel, message: 'PDF is encrypted (DA/T 70 U4: no encryption in a package)' });
  }
  if (fmt === 'xml') {
    const s = buf.toString('utf8');
    if (/<!DOCTYPE|<!ENTITY/i.test(s)) out.push({ aspect: '安全性', code: 'xml_entities', file: rel, message: 'XML declares a DOCTYPE or entities' });
    if (!wellFormed(s)) out.push({ aspect: '可用性', code: 'xml_malformed', file: rel, message: 'XML is not well-formed' });
  }
  return out;
}

/** A small well-formedness check: tags balance and nest (the metadata files have no CDATA or comments). */
export function wellFormed(xml: string): boolean {
  const body = xml.replace(/^\uFEFF?<\?xml[^>]*\?>/, '');
  const stack: string[] = [];
  for (const m of body.matchAll(/<(\/?)([A-Za-z_\u4e00-\u9fff][\w.\-\u4e00-\u9fff]*)[^>]*?(\/?)>/gu)) {
    if (m[3]) continue;
    if (m[1]) {
      if (stack.pop() !== m[2]) return false;
    } else stack.push(m[2]!);
  }
  return stack.length === 0 && /<[A-Za-z_\u4e00-\u9fff]/u.test(body);
}

export function walk(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, base));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out.sort();
}

export function summarise(findings: CheckFinding[], counts: { files: number; bytes: number; items: number }): CheckReport {
  const aspects = { 真实性: 'pass', 完整性: 'pass', 可用性: 'pass', 安全性: 'pass' } as CheckReport['aspects'];
  for (const f of findings) aspects[f.aspect] = 'fail';
  return { ok: findings.length === 0, checkedAt: new Date().toISOString(), ...counts, aspects, findings };
}
