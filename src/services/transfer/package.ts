/**
 * 移交 (issue #11 §6; 档案法 第14条, 档案法实施条例 on transfer, GB/T 31599-2015 移交与接收): a
 * selection of filed items exported as a BagIt 1.0 package (RFC 8493) — per item a metadata XML
 * in the manner of DA/T 48 (档号、题名、责任者、日期、保管期限、文件与哈希值), the searchable PDF and the
 * originals, decrypted for the package — with a 移交清册, SHA-256 manifests, the 四性 report
 * (DA/T 70-2018, checked before the package leaves) and a signature over the tag manifest with the
 * agency's certificate (the audit signing certificate, services/audit/signing.ts).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../errors';
import type { ItemDoc } from '../../models/item.model';
import { transferPackageModel } from '../../models/transfer.model';
import type { Runtime } from '../../runtime';
import { loadAuditSigner } from '../audit';
import { loadItem, pageKeys, STATUS, type Classification, type ExtractedMetadata } from '../records';
import { contentFindings, sha256File, summarise, walk, type CheckFinding, type CheckReport } from './checks';

export const LIST_FILE = 'data/移交清册.csv';
export const REPORT_FILE = '四性检测报告.json';
export const SIGNATURE_FILE = 'tagmanifest-sha256.txt.sig';
export const CERT_FILE = 'agency-certificate.pem';

const xmlEscape = (s: unknown): string => String(s ?? '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
const csvCell = (s: unknown): string => {
  const v = String(s ?? '');
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
};
/** A file-system-safe folder name for a 档号 (· and - kept; anything else unusual replaced). */
const folderOf = (code: string): string => code.replace(/[^0-9A-Za-z·.\-_]/gu, '_');
const EXT: Record<string, string> = { pdf: 'pdf', jpeg: 'jpg', jpg: 'jpg', tiff: 'tif', tif: 'tif', png: 'png', jp2: 'jp2' };

interface Written {
  rel: string;
  sha256: string;
  size: number;
  format: string;
}

async function writeBlob(rt: Runtime, key: string, dir: string, rel: string, format: string): Promise<Written> {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await pipeline(await rt.storage.blobs.get(key), fs.createWriteStream(file, { mode: 0o600 }));
  return { rel, sha256: sha256File(file), size: fs.statSync(file).size, format };
}

function metadataXml(item: ItemDoc, files: Written[], levelName: string): string {
  const md = (item.metadata ?? {}) as Partial<ExtractedMetadata>;
  const cls = (item.classification ?? {}) as Partial<Classification>;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<档案元数据 参照标准="DA/T 48-2009">',
    '  <聚合层次>件</聚合层次>',
    `  <全宗号>${xmlEscape(item.fonds)}</全宗号>`,
    `  <档号>${xmlEscape(item.archivalCode)}</档号>`,
    `  <年度>${xmlEscape((md.documentDate ?? '').slice(0, 4))}</年度>`,
    `  <保管期限>${xmlEscape(cls.retention)}</保管期限>`,
    `  <题名>${xmlEscape(md.title ?? item.title)}</题名>`,
    `  <文号>${xmlEscape(md.docNumber)}</文号>`,
    `  <责任者>${xmlEscape(md.units?.[0]?.name)}</责任者>`,
    `  <日期>${xmlEscape((md.documentDate ?? '').replace(/-/g, ''))}</日期>`,
    `  <页数>${item.pageCount ?? 0}</页数>`,
    `  <密级>${xmlEscape(levelName)}</密级>`,
    `  <分类 条目="${xmlEscape(cls.item)}">${xmlEscape(cls.itemName)}</分类>`,
    `  <保管期限依据>${xmlEscape(cls.citation)}</保管期限依据>`,
    `  <保管期限表版本>${xmlEscape(cls.scheduleVersion)}</保管期限表版本>`,
    '  <计算机文件>',
    ...files.map((f) => `    <文件 名称="${xmlEscape(path.basename(f.rel))}" 格式="${xmlEscape(f.format.toUpperCase())}" 大小="${f.size}" 哈希算法="SHA-256" 哈希值="${f.sha256}"/>`),
    '  </计算机文件>',
    '</档案元数据>',
    '',
  ];
  return lines.join('\n');
}

export interface ExportResult {
  packageId: string;
  dir: string;
  items: number;
  files: number;
  bytes: number;
  report: CheckReport;
  /**
   * Earlier packages that already hold some of these items: waiting for the archives' receipt
   * (exported) or accepted by them (received). Not refused (a lost package has to go again), but
   * said, so that the person can tell the archives which package this one repeats.
   */
  alsoIn: Array<{ packageId: string; status: 'exported' | 'received'; items: number }>;
}

/**
 * Writes the package for `itemIds` (filed items with a 档号) into `outDir` (default
 * <dataDir>/transfers/<id>). Refuses (transfer_check_failed) and records nothing when the 四性 check
 * of the finished payload fails; the folder is then left for inspection.
 */
export async function exportTransfer(rt: Runtime, opts: { itemIds: string[]; actor: string; role?: string | null; outDir?: string }): Promise<ExportResult> {
  if (opts.itemIds.length === 0) throw new AppError('validation_failed', { message: 'Select at least one item', zh: '请至少选择一件档案', details: { field: 'items' } });
  const items: ItemDoc[] = [];
  for (const id of [...new Set(opts.itemIds)]) {
    const it = await loadItem(rt, id);
    if (it.status !== 'filed' || !it.archivalCode || !STATUS.readable.has(it.status)) {
      throw new AppError('conflict', { message: `Item ${id} is ${it.status}${it.archivalCode ? '' : ' without a 档号'}: only filed, numbered items are transferred`, zh: `条目 ${id} 未归档或无档号，不能移交`, details: { id, status: it.status } });
    }
    items.push(it);
  }
  items.sort((a, b) => a.archivalCode!.localeCompare(b.archivalCode!));
  const fonds = items[0]!.fonds;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  const packageId = `YJ-${fonds}-${day}-${crypto.randomBytes(3).toString('hex')}`;
  const dir = path.resolve(opts.outDir ?? path.join(rt.config.dataDir, 'transfers', packageId));
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new AppError('conflict', { message: `${dir} is not empty`, zh: `目录 ${dir} 不为空`, details: { dir } });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  const payload: Written[] = [];
  const listRows = [['序号', '档号', '题名', '文号', '责任者', '日期', '保管期限', '页数', '文件数', '备注'].join(',')];
  for (const [i, item] of items.entries()) {
    const folder = `data/${folderOf(item.archivalCode!)}`;
    const files: Written[] = [];
    if (item.pdfKey ?? pageKeys.pdf(String(item._id))) {
      const key = item.pdfKey ?? pageKeys.pdf(String(item._id));
      const exists = await rt.storage.blobs.stat(key).then(() => true, () => false);
      if (exists) files.push(await writeBlob(rt, key, dir, `${folder}/${folderOf(item.archivalCode!)}.pdf`, 'pdf'));
    }
    for (const [n, o] of (item.originals ?? []).entries()) {
      const ext = EXT[o.format] ?? 'bin';
      files.push(await writeBlob(rt, o.blobKey, dir, `${folder}/${folderOf(item.archivalCode!)}-原件${String(n + 1).padStart(2, '0')}.${ext}`, o.format));
    }
    const levelName = rt.config.clearanceLevels[typeof item.accessLevel === 'number' ? item.accessLevel : 0] ?? 'public';
    const xmlRel = `${folder}/metadata.xml`;
    fs.writeFileSync(path.join(dir, xmlRel), metadataXml(item, files, levelName), { mode: 0o600 });
    payload.push(...files, { rel: xmlRel, sha256: sha256File(path.join(dir, xmlRel)), size: fs.statSync(path.join(dir, xmlRel)).size, format: 'xml' });
    const md = (item.metadata ?? {}) as Partial<ExtractedMetadata>;
    const cls = (item.classification ?? {}) as Partial<Classification>;
    listRows.push([i + 1, item.archivalCode, md.title ?? item.title, md.docNumber, md.units?.[0]?.name, (md.documentDate ?? '').replace(/-/g, ''), cls.retention, item.pageCount ?? 0, files.length, ''].map(csvCell).join(','));
  }
  // 移交清册: CSV with a BOM so spreadsheet software reads the Chinese correctly.
  fs.writeFileSync(path.join(dir, LIST_FILE), `\uFEFF${listRows.join('\r\n')}\r\n`, { mode: 0o600 });
  payload.push({ rel: LIST_FILE, sha256: sha256File(path.join(dir, LIST_FILE)), size: fs.statSync(path.join(dir, LIST_FILE)).size, format: 'csv' });

  const bytes = payload.reduce((n, f) => n + f.size, 0);
  fs.writeFileSync(path.join(dir, 'bagit.txt'), 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n');
  fs.writeFileSync(
    path.join(dir, 'bag-info.txt'),
    [
      `Source-Organization: ${fonds}`,
      `External-Identifier: ${packageId}`,
      `Bagging-Date: ${new Date().toISOString().slice(0, 10)}`,
      `Payload-Oxum: ${bytes}.${payload.length}`,
      `Bag-Count: 1 of 1`,
      `Internal-Sender-Description: 移交 ${items.length} 件 / transfer of ${items.length} items (3号令; DA/T 70-2018 四性 checked)`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'manifest-sha256.txt'), payload.map((f) => `${f.sha256}  ${f.rel}`).sort().join('\n') + '\n');

  // 四性 before it leaves: the payload as written, against the list (no signature yet).
  const report = checkPackage(dir, { signature: false });
  fs.writeFileSync(path.join(dir, REPORT_FILE), JSON.stringify(report, null, 2));
  if (!report.ok) {
    throw new AppError('transfer_check_failed', { details: { dir, findings: report.findings.slice(0, 20) } });
  }
  const tagFiles = ['bagit.txt', 'bag-info.txt', 'manifest-sha256.txt', REPORT_FILE];
  const tagmanifest = tagFiles.map((f) => `${sha256File(path.join(dir, f))}  ${f}`).join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'tagmanifest-sha256.txt'), tagmanifest);
  const signer = loadAuditSigner(rt.config.dataDir, { passphrase: rt.config.keystore.passphrase });
  fs.writeFileSync(path.join(dir, SIGNATURE_FILE), `${signer.sign(tagmanifest)}\n`);
  fs.writeFileSync(path.join(dir, CERT_FILE), signer.certPem);

  const ids = items.map((i) => String(i._id));
  const earlier = await transferPackageModel(rt.db).find({ itemIds: { $in: ids } }).sort({ createdAt: 1 }).lean();
  const alsoIn = earlier.map((p) => ({ packageId: p._id, status: p.status, items: p.itemIds.filter((id) => ids.includes(id)).length }));
  await transferPackageModel(rt.db).create({
    _id: packageId,
    fonds,
    itemIds: items.map((i) => String(i._id)),
    archivalCodes: items.map((i) => i.archivalCode!),
    createdBy: opts.actor,
    dir,
    status: 'exported',
    report,
  });
  rt.audit.record({ actor: opts.actor, role: opts.role ?? null, action: 'transfer.export', object: { type: 'transfer', id: packageId }, outcome: 'success', details: { items: items.length, files: payload.length, bytes, signer: signer.fingerprint, ...(alsoIn.length ? { alsoIn } : {}) } });
  return { packageId, dir, items: items.length, files: payload.length, bytes, report, alsoIn };
}

/**
 * The 四性 check of a package folder. With `signature` (the default) the signature over the tag
 * manifest is verified with the certificate in the package, and — when `expectedFingerprint` is
 * given — that certificate must be the agency's.
 */
export function checkPackage(dir: string, opts: { signature?: boolean; expectedFingerprint?: string } = {}): CheckReport {
  const findings: CheckFinding[] = [];
  const must = (rel: string): string | null => {
    const p = path.join(dir, rel);
    if (!fs.existsSync(p)) {
      findings.push({ aspect: '完整性', code: 'missing_tag_file', file: rel, message: `${rel} is missing` });
      return null;
    }
    return fs.readFileSync(p, 'utf8');
  };
  const bagit = must('bagit.txt');
  if (bagit !== null && !/^BagIt-Version: 1\.0/m.test(bagit)) findings.push({ aspect: '可用性', code: 'bagit_version', file: 'bagit.txt', message: 'not a BagIt 1.0 declaration' });
  const manifest = must('manifest-sha256.txt') ?? '';
  const listed = new Map<string, string>();
  for (const line of manifest.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {1,2}(.+)$/.exec(line);
    if (!m) findings.push({ aspect: '完整性', code: 'manifest_line', file: 'manifest-sha256.txt', message: `bad line: ${line.slice(0, 80)}` });
    else listed.set(m[2]!, m[1]!);
  }
  // Fixity, and nothing missing or unlisted.
  const present = fs.existsSync(path.join(dir, 'data')) ? walk(path.join(dir, 'data')).map((r) => `data/${r}`) : [];
  let bytes = 0;
  for (const rel of present) {
    const buf = fs.readFileSync(path.join(dir, rel));
    bytes += buf.length;
    const want = listed.get(rel);
    if (!want) findings.push({ aspect: '完整性', code: 'unlisted_file', file: rel, message: 'file in data/ not in the manifest' });
    else if (crypto.createHash('sha256').update(buf).digest('hex') !== want) findings.push({ aspect: '真实性', code: 'fixity', file: rel, message: 'SHA-256 differs from the manifest' });
    findings.push(...contentFindings(rel, buf));
  }
  for (const rel of listed.keys()) if (!present.includes(rel)) findings.push({ aspect: '完整性', code: 'missing_file', file: rel, message: 'listed in the manifest but missing' });
  const info = must('bag-info.txt') ?? '';
  const oxum = /^Payload-Oxum: (\d+)\.(\d+)$/m.exec(info);
  if (!oxum || Number(oxum[1]) !== bytes || Number(oxum[2]) !== present.length) findings.push({ aspect: '完整性', code: 'payload_oxum', file: 'bag-info.txt', message: `Payload-Oxum ${oxum ? `${oxum[1]}.${oxum[2]}` : '(none)'} ≠ ${bytes}.${present.length}` });
  // Completeness against the 移交清册: every listed 档号 has its folder with metadata and content.
  const list = fs.existsSync(path.join(dir, LIST_FILE)) ? fs.readFileSync(path.join(dir, LIST_FILE), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter(Boolean).slice(1) : [];
  if (list.length === 0) findings.push({ aspect: '完整性', code: 'empty_list', file: LIST_FILE, message: 'the 移交清册 is missing or lists nothing' });
  for (const row of list) {
    const code = row.split(',')[1] ?? '';
    const folder = `data/${folderOf(code)}/`;
    const files = present.filter((p) => p.startsWith(folder));
    if (!files.includes(`${folder}metadata.xml`)) findings.push({ aspect: '完整性', code: 'missing_metadata', file: folder, message: `${code}: no metadata.xml` });
    if (!files.some((f) => !f.endsWith('metadata.xml'))) findings.push({ aspect: '完整性', code: 'missing_content', file: folder, message: `${code}: no content file` });
  }
  if (opts.signature !== false) {
    const tag = must('tagmanifest-sha256.txt');
    const sig = must(SIGNATURE_FILE);
    const cert = must(CERT_FILE);
    if (tag !== null) {
      for (const line of tag.split('\n').filter(Boolean)) {
        const [hash, rel] = line.split(/ {1,2}/);
        if (!rel || !fs.existsSync(path.join(dir, rel)) || sha256File(path.join(dir, rel)) !== hash) findings.push({ aspect: '真实性', code: 'tag_fixity', file: rel, message: 'tag file differs from the tag manifest' });
      }
    }
    if (tag !== null && sig !== null && cert !== null) {
      try {
        const x509 = new crypto.X509Certificate(cert);
        if (!crypto.verify('sha256', Buffer.from(tag, 'utf8'), x509.publicKey, Buffer.from(sig.trim(), 'base64'))) findings.push({ aspect: '真实性', code: 'signature', file: SIGNATURE_FILE, message: 'the signature over the tag manifest does not verify' });
        const fp = crypto.createHash('sha256').update(x509.raw).digest('hex');
        if (opts.expectedFingerprint && fp !== opts.expectedFingerprint) findings.push({ aspect: '真实性', code: 'signer', file: CERT_FILE, message: `signed by certificate ${fp.slice(0, 16)}…, not the agency's` });
      } catch (err) {
        findings.push({ aspect: '真实性', code: 'signature', file: CERT_FILE, message: `certificate or signature unreadable: ${(err as Error).message}` });
      }
    }
  }
  return summarise(findings, { files: present.length, bytes, items: list.length });
}

/** Verifies a package folder (the 四性 check, with signature) against this agency's certificate. */
export function verifyTransfer(rt: Runtime, dir: string): CheckReport {
  if (!fs.existsSync(dir)) throw new AppError('validation_failed', { message: `${dir} does not exist`, zh: `目录 ${dir} 不存在`, details: { field: 'dir' } });
  const signer = loadAuditSigner(rt.config.dataDir, { passphrase: rt.config.keystore.passphrase });
  return checkPackage(dir, { expectedFingerprint: signer.fingerprint });
}

/** The directory of an exported package, by its id (not_found when there is no such package). */
export async function transferPackageDir(rt: Runtime, packageId: string): Promise<string> {
  const pkg = await transferPackageModel(rt.db).findById(packageId).lean();
  if (!pkg) throw new AppError('not_found', { details: { packageId } });
  return pkg.dir;
}

export async function listTransfers(rt: Runtime): Promise<Array<{ packageId: string; items: number; status: string; createdAt: string; createdBy: string }>> {
  return (await transferPackageModel(rt.db).find({}).sort({ createdAt: -1 }).lean()).map((p) => ({ packageId: p._id, items: p.itemIds.length, status: p.status, createdAt: p.createdAt.toISOString(), createdBy: p.createdBy }));
}

