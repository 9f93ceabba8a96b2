/**
 * The destruction certificate (销毁证明): a PDF listing every destroyed item with its checksums, the
 * approvals, the 备案 reference and the supervisors, signed with the agency's certificate as a
 * detached CMS (PKCS#7 SignedData, SHA-256, RSA) made with node-forge. The agency's key pair is kept
 * like the audit signing key (services/audit/signing.ts): <dataDir>/keys/agency-signing.{key,crt}.pem.
 * The PDF embeds a JSON manifest (manifest.json), so a verifier can compare what the certificate
 * says with the permanent destruction register. 清册, report and certificate are permanent records
 * (3号令 第十二条 ≈ R6, regulations.md §4.3).
 *
 * forge can sign but not verify CMS, so verification walks the ASN.1 and checks with node:crypto.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import forge from 'node-forge';
import { pdfAttachment } from '../../../render';
import { AppError } from '../../errors';
import {
  confirmationModel,
  dispositionDocumentModel,
  execItemModel,
  executionModel,
  listVersionModel,
  registerModel,
  type ConfirmationDoc,
  type ExecItemDoc,
  type ExecutionDoc,
  type ListVersionDoc,
  type RegisterDoc,
} from '../../models/disposition.model';
import type { Runtime } from '../../runtime';
import { loadAuditSigner, signingPaths } from '../audit';
import { insertOnce, sha256Hex } from './common';
import { getList, listPdf } from './lists';
import { buildPdf } from './pdf';
import { periodLabel } from './rules';

export const AGENCY_KEY_NAME = 'agency-signing';

export interface AgencyKey {
  key: forge.pki.rsa.PrivateKey;
  cert: forge.pki.Certificate;
  certPem: string;
  fingerprint: string;
}

/** The agency's signing key and certificate (made on first use, like the audit key). */
export function agencyKey(rt: Runtime): AgencyKey {
  const passphrase = rt.config.keystore.passphrase;
  loadAuditSigner(rt.config.dataDir, { passphrase, name: AGENCY_KEY_NAME, commonName: `${rt.config.fonds} social insurance agency document signing` });
  const paths = signingPaths(rt.config.dataDir, AGENCY_KEY_NAME);
  const keyPem = fs.readFileSync(paths.key, 'utf8');
  const certPem = fs.readFileSync(paths.cert, 'utf8');
  const key = (passphrase ? forge.pki.decryptRsaPrivateKey(keyPem, passphrase) : forge.pki.privateKeyFromPem(keyPem)) as forge.pki.rsa.PrivateKey;
  return { key, cert: forge.pki.certificateFromPem(certPem), certPem, fingerprint: fingerprintOf(certPem) };
}

function fingerprintOf(certPem: string): string {
  return crypto.createHash('sha256').update(new crypto.X509Certificate(certPem).raw).digest('hex');
}

/** Detached CMS SignedData over `content` (DER bytes). */
export function signDetached(content: Buffer, k: AgencyKey, at: Date): Buffer {
  const p7 = forge.pkcs7.createSignedData();
  p7.content = forge.util.createBuffer(content.toString('binary'));
  p7.addCertificate(k.cert);
  p7.addSigner({
    key: k.key,
    certificate: k.cert,
    digestAlgorithm: forge.pki.oids.sha256!,
    authenticatedAttributes: [
      { type: forge.pki.oids.contentType!, value: forge.pki.oids.data },
      { type: forge.pki.oids.messageDigest! },
      { type: forge.pki.oids.signingTime!, value: at as unknown as string },
    ],
  });
  p7.sign({ detached: true });
  return Buffer.from(forge.asn1.toDer(p7.toAsn1()).getBytes(), 'binary');
}

export interface CertificateManifest {
  kind: 'si-archive/destruction-certificate';
  listId: string;
  version: number;
  listSha256: string;
  roundId: string;
  items: Array<{ itemId: string; archivalCode: string | null; title: string | null; checksums: Array<{ key: string; sha256: string }>; destroyedAt: string | null }>;
  skipped: Array<{ itemId: string; reason: string }>;
  approvals: Array<{ step: string; username: string; at: string }>;
  filing: { date: string; reference: string; receiptSha256: string | null } | null;
  supervisors: Array<{ username: string; confirmedAt: string | null }>;
  method: string;
  place: string;
  startedAt: string;
  issuedAt: string;
  agencyCertificate: string;
}

export function certificateKeys(listId: string): { pdf: string; p7s: string; list: string } {
  return { pdf: `disposition/lists/${listId}/certificate.pdf`, p7s: `disposition/lists/${listId}/certificate.p7s`, list: `disposition/lists/${listId}/list-final.pdf` };
}

/** Issues the certificate once both supervisors have confirmed (idempotent: returns the one issued). */
export async function issueCertificate(rt: Runtime, listId: string): Promise<{ pdfKey: string; p7sKey: string; sha256: string }> {
  const keys = certificateKeys(listId);
  const docs = dispositionDocumentModel(rt.db);
  const existing = await docs.findById(keys.pdf).lean();
  if (existing && (await docs.findById(keys.p7s).lean())) return { pdfKey: keys.pdf, p7sKey: keys.p7s, sha256: existing.sha256 };
  const v = await getList(rt, listId);
  const exec = (await executionModel(rt.db).findById(listId).lean<ExecutionDoc>())!;
  const ver = (await listVersionModel(rt.db).findById(`${listId}:${exec.version}`).lean<ListVersionDoc>())!;
  const outcomes = await execItemModel(rt.db).find({ listId }).lean<ExecItemDoc[]>();
  const regs = new Map((await registerModel(rt.db).find({ listId }).lean<RegisterDoc[]>()).map((r) => [r._id, r]));
  const confirmations = await confirmationModel(rt.db).find({ listId }).lean<ConfirmationDoc[]>();
  const destroyed = new Set(outcomes.filter((o) => o.outcome === 'destroyed').map((o) => o.itemId));
  const ak = agencyKey(rt);
  const issuedAt = new Date(Math.max(...confirmations.map((c) => c.at.getTime())));
  const manifest: CertificateManifest = {
    kind: 'si-archive/destruction-certificate',
    listId,
    version: exec.version,
    listSha256: ver.sha256,
    roundId: v.roundId,
    items: ver.rows.filter((r) => destroyed.has(r.itemId)).map((r) => ({ itemId: r.itemId, archivalCode: r.archivalCode, title: r.title, checksums: regs.get(r.itemId)?.checksums ?? [], destroyedAt: regs.get(r.itemId)?.destroyedAt?.toISOString() ?? null })),
    skipped: outcomes.filter((o) => o.outcome === 'skipped').map((o) => ({ itemId: o.itemId, reason: o.reason })),
    approvals: v.signatures.filter((s) => s.version === exec.version).map((s) => ({ step: s.step, username: s.username, at: s.at })),
    filing: v.filing && v.filing.version === exec.version ? { date: v.filing.date, reference: v.filing.reference, receiptSha256: v.filing.receiptSha256 } : null,
    supervisors: exec.supervisors.map((s) => ({ username: s.username, confirmedAt: confirmations.find((c) => c.userId === s.userId)?.at.toISOString() ?? null })),
    method: exec.method,
    place: exec.place,
    startedAt: exec.startedAt.toISOString(),
    issuedAt: issuedAt.toISOString(),
    agencyCertificate: ak.fingerprint,
  };
  const rowsById = new Map(ver.rows.map((r) => [r.itemId, r]));
  const pdf = await buildPdf({
    title: '档案销毁证明书',
    subject: `destruction certificate ${listId}`,
    createdAt: issuedAt,
    blocks: [
      { kind: 'text', text: `销毁清册：${v.title}（编号 ${listId}，第 ${exec.version} 版，SHA-256 ${ver.sha256}）\n依据：鉴定 ${v.roundId}；《社会保险业务档案管理规定（试行）》第十至十二条。` },
      { kind: 'heading', text: '审批与备案' },
      { kind: 'text', text: [...manifest.approvals.map((a) => `${a.step === 'head' ? '主要负责人批准' : '鉴定小组签署'}：${a.username}  ${a.at}`), manifest.filing ? `备案：${manifest.filing.date}  人社行政部门文号 ${manifest.filing.reference}${manifest.filing.receiptSha256 ? `  回执 SHA-256 ${manifest.filing.receiptSha256}` : ''}` : '备案：（本审批链未要求）'].join('\n') },
      { kind: 'heading', text: '监销' },
      { kind: 'text', text: `监销人：${manifest.supervisors.map((s) => `${s.username}（确认 ${s.confirmedAt ?? '—'}）`).join('；')}\n销毁方式：${manifest.method}    地点：${manifest.place || '—'}\n开始：${manifest.startedAt}    完成：${manifest.issuedAt}` },
      { kind: 'heading', text: `已销毁档案（${manifest.items.length} 件）` },
      {
        kind: 'table',
        size: 6.5,
        columns: [{ title: '序号', width: 0.5 }, { title: '档号', width: 2.6 }, { title: '题名', width: 2.6 }, { title: '形成时间', width: 1.1 }, { title: '原保管期限', width: 0.9 }, { title: '校验值 SHA-256', width: 5.4 }, { title: '销毁时间', width: 1.7 }],
        rows: manifest.items.map((it, i) => [String(i + 1), it.archivalCode ?? it.itemId, it.title ?? '', rowsById.get(it.itemId)?.formedOn ?? '', periodLabel(rowsById.get(it.itemId)?.retention ?? null), it.checksums.map((c) => c.sha256).join('\n'), it.destroyedAt ?? '']),
      },
      ...(manifest.skipped.length
        ? [{ kind: 'heading' as const, text: `未销毁（${manifest.skipped.length} 件，批准后被冻结或状态改变）` }, { kind: 'table' as const, columns: [{ title: '条目', width: 2 }, { title: '原因', width: 5 }], rows: manifest.skipped.map((s) => [rowsById.get(s.itemId)?.archivalCode ?? s.itemId, s.reason]) }]
        : []),
      { kind: 'text', text: `本证明由本机构证书签名（分离式 CMS 签名文件 .p7s），证书指纹 SHA-256 ${ak.fingerprint}。核验：archive disposal verify-certificate 文件名` },
    ],
    attachments: [{ name: 'manifest.json', mimeType: 'application/json', bytes: Buffer.from(JSON.stringify(manifest), 'utf8') }],
  });
  const p7s = signDetached(pdf, ak, issuedAt);
  const putPdf = await rt.storage.blobs.put(keys.pdf, pdf, { contentType: 'application/pdf' });
  const putSig = await rt.storage.blobs.put(keys.p7s, p7s, { contentType: 'application/pkcs7-signature' });
  // The 清册 as destroyed, with supervisors, method and time: a permanent record too.
  const finalList = await listPdf(rt, listId, { version: exec.version, extra: [{ kind: 'heading', text: '监销' }, { kind: 'text', text: `监销人：${manifest.supervisors.map((s) => s.username).join('、')}；销毁方式：${manifest.method}；销毁时间：${manifest.startedAt} 至 ${manifest.issuedAt}；已销毁 ${manifest.items.length} 件，未销毁 ${manifest.skipped.length} 件。` }] });
  const putList = await rt.storage.blobs.put(keys.list, finalList, { contentType: 'application/pdf' });
  const now = new Date();
  await insertOnce(docs.create({ _id: keys.list, kind: 'destruction_list', refId: listId, sha256: putList.sha256, size: putList.size, retention: 'Y', createdAt: now }));
  await insertOnce(docs.create({ _id: keys.p7s, kind: 'certificate_signature', refId: listId, sha256: putSig.sha256, size: putSig.size, retention: 'Y', createdAt: now }));
  await insertOnce(docs.create({ _id: keys.pdf, kind: 'destruction_certificate', refId: listId, sha256: putPdf.sha256, size: putPdf.size, retention: 'Y', createdAt: now }));
  await rt.audit.record({ actor: 'system', action: 'disposal.certificate', object: { type: 'destruction_list', id: listId }, outcome: 'success', details: { sha256: putPdf.sha256, items: manifest.items.length, skipped: manifest.skipped.length, fingerprint: ak.fingerprint } });
  return { pdfKey: keys.pdf, p7sKey: keys.p7s, sha256: putPdf.sha256 };
}

/** The issued certificate and its signature, as bytes. */
export async function certificateFiles(rt: Runtime, listId: string): Promise<{ pdf: Buffer; p7s: Buffer }> {
  const keys = certificateKeys(listId);
  if (!(await dispositionDocumentModel(rt.db).findById(keys.pdf).lean())) throw new AppError('not_found', { message: 'No certificate yet: both supervisors confirm the end of destruction first', zh: '尚未出具销毁证明（须两名监销人确认销毁完成）' });
  return { pdf: await rt.storage.blobs.getBuffer(keys.pdf), p7s: await rt.storage.blobs.getBuffer(keys.p7s) };
}

export interface CertificateProblem {
  code: 'signature_missing' | 'signature_unreadable' | 'content_changed' | 'signature_invalid' | 'wrong_signer' | 'manifest_missing' | 'register_mismatch';
  message: string;
  messageZh: string;
}

export interface CertificateCheck {
  ok: boolean;
  problems: CertificateProblem[];
  signer: { subject: string; fingerprint: string } | null;
  signedAt: string | null;
  listId: string | null;
  items: number | null;
}

const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_SIGNING_TIME = '1.2.840.113549.1.9.5';

/**
 * Checks a certificate PDF against its detached signature, the agency's certificate (when given)
 * and the destruction register (when a runtime is given), and says exactly what is wrong.
 */
export async function verifyCertificate(pdf: Buffer, p7s: Buffer | null, opts: { agencyCertPem?: string; rt?: Runtime } = {}): Promise<CertificateCheck> {
  const problems: CertificateProblem[] = [];
  const out: CertificateCheck = { ok: false, problems, signer: null, signedAt: null, listId: null, items: null };
  const add = (code: CertificateProblem['code'], message: string, messageZh: string) => problems.push({ code, message, messageZh });
  if (!p7s) add('signature_missing', 'No detached signature (.p7s) was found beside the certificate', '未找到证明的分离式签名文件（.p7s）');
  else {
    try {
      const asn = forge.asn1.fromDer(forge.util.createBuffer(p7s.toString('binary')));
      const signedData = (asn.value as forge.asn1.Asn1[])[1]!.value[0] as forge.asn1.Asn1;
      const parts = signedData.value as forge.asn1.Asn1[];
      const certsNode = parts.find((p) => p.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && p.type === 0);
      const signerInfos = parts[parts.length - 1]!.value as forge.asn1.Asn1[];
      const si = signerInfos[0]!.value as forge.asn1.Asn1[];
      const authAttrs = si.find((p) => p.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && p.type === 0)!;
      const encryptedDigest = si[si.length - 1]!.value as string;
      const cert = forge.pki.certificateFromAsn1((certsNode!.value as forge.asn1.Asn1[])[0]!);
      const certPem = forge.pki.certificateToPem(cert);
      out.signer = { subject: cert.subject.attributes.map((a) => `${a.shortName ?? a.name}=${String(a.value)}`).join(', '), fingerprint: fingerprintOf(certPem) };
      let digest: string | null = null;
      for (const attr of authAttrs.value as forge.asn1.Asn1[]) {
        const [oid, set] = attr.value as forge.asn1.Asn1[];
        const id = forge.asn1.derToOid(oid!.value as string);
        const v = (set!.value as forge.asn1.Asn1[])[0]!;
        if (id === OID_MESSAGE_DIGEST) digest = Buffer.from(v.value as string, 'binary').toString('hex');
        if (id === OID_SIGNING_TIME) out.signedAt = (v.type === forge.asn1.Type.UTCTIME ? forge.asn1.utcTimeToDate(v.value as string) : forge.asn1.generalizedTimeToDate(v.value as string)).toISOString();
      }
      const signedBytes = Buffer.from(forge.asn1.toDer(forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SET, true, authAttrs.value as forge.asn1.Asn1[])).getBytes(), 'binary');
      const sigOk = crypto.verify('sha256', signedBytes, new crypto.X509Certificate(certPem).publicKey, Buffer.from(encryptedDigest, 'binary'));
      const actual = sha256Hex(pdf);
      if (!sigOk) add('signature_invalid', 'The signature does not verify with the certificate it carries: the signature file was altered or made with another key', '签名无法用其所附证书验证：签名文件被改动或由其他密钥生成');
      if (digest !== actual) add('content_changed', `The PDF was changed after signing: its SHA-256 is ${actual}, the signature covers ${digest ?? '(none)'}`, `证明 PDF 在签名后被改动：当前 SHA-256 为 ${actual}，签名所覆盖的为 ${digest ?? '（无）'}`);
      if (opts.agencyCertPem && fingerprintOf(opts.agencyCertPem) !== out.signer.fingerprint) add('wrong_signer', `Signed by a certificate that is not the agency's (fingerprint ${out.signer.fingerprint}, expected ${fingerprintOf(opts.agencyCertPem)})`, `签名证书不是本机构证书（指纹 ${out.signer.fingerprint}，应为 ${fingerprintOf(opts.agencyCertPem)}）`);
    } catch (err) {
      add('signature_unreadable', `The signature file is not a CMS/PKCS#7 signature this tool can read: ${(err as Error).message}`, '签名文件不是可读取的 CMS/PKCS#7 签名');
    }
  }
  const manifest = await readManifest(pdf).catch(() => null);
  if (!manifest) add('manifest_missing', 'The PDF carries no readable manifest.json (not a certificate from this system, or damaged)', 'PDF 中没有可读取的 manifest.json（非本系统出具或已损坏）');
  else {
    out.listId = manifest.listId;
    out.items = manifest.items.length;
    if (opts.rt) {
      const regs = new Map((await registerModel(opts.rt.db).find({ _id: { $in: manifest.items.map((i) => i.itemId) } }).lean<RegisterDoc[]>()).map((r) => [r._id, r]));
      for (const it of manifest.items) {
        const r = regs.get(it.itemId);
        if (!r || r.listId !== manifest.listId) add('register_mismatch', `Item ${it.archivalCode ?? it.itemId} is listed as destroyed but the destruction register has no such entry for list ${manifest.listId}`, `条目 ${it.archivalCode ?? it.itemId} 列为已销毁，但销毁登记簿中没有该清册的记录`);
        else if (JSON.stringify(r.checksums) !== JSON.stringify(it.checksums)) add('register_mismatch', `Item ${it.archivalCode ?? it.itemId}: the checksums differ from the destruction register`, `条目 ${it.archivalCode ?? it.itemId} 的校验值与销毁登记簿不一致`);
      }
      const listed = await registerModel(opts.rt.db).countDocuments({ listId: manifest.listId });
      if (listed !== manifest.items.length) add('register_mismatch', `The register holds ${listed} destroyed item(s) for list ${manifest.listId}; the certificate lists ${manifest.items.length}`, `销毁登记簿中该清册有 ${listed} 件，证明列出 ${manifest.items.length} 件`);
    }
  }
  out.ok = problems.length === 0;
  return out;
}

/** Reads manifest.json back out of the PDF's embedded files. */
export async function readManifest(pdf: Buffer): Promise<CertificateManifest | null> {
  const bytes = await pdfAttachment(pdf, 'manifest.json');
  return bytes ? (JSON.parse(Buffer.from(bytes).toString('utf8')) as CertificateManifest) : null;
}
