import { AppError } from '../../errors';
import { seesSecurityEventsOnly } from '../../services/access';
import { cliPrincipal, forPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

function parseSince(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime())) {
    throw new AppError('validation_failed', { message: `--since: not an ISO date or time: ${v}`, zh: `--since 不是合法的 ISO 日期或时间：${v}` });
  }
  return d;
}

export const auditCommand: Command = {
  name: 'audit',
  summary: 'The tamper-evident audit trail: verify the chain, list entries',
  usage: '<verify|list|anchor>',
  description: 'Entries can only be appended; no command edits or deletes them.',
  subcommands: [
    {
      name: 'verify',
      permission: 'audit.verify',
      summary: 'Recompute the hash chain and check the signed checkpoints; exit 1 on the first altered, missing or inserted entry',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const r = await rt.audit.verify({ onProgress: (n) => (!values.json && io.isTTY ? io.err(`… ${n} entries read`) : undefined) });
          if (values.json) io.out(JSON.stringify(r));
          else if (r.ok) {
            io.out(`审计链完整 / audit trail intact: ${r.entries} entries, last seq ${r.lastSeq}, ${r.checkpoints} signed checkpoints (last at ${r.lastCheckpointSeq}, ${r.unsignedTail} entries after it), anchored outside the database up to ${r.anchoredSeq ?? '(none)'} in ${(r.ms / 1000).toFixed(1)} s`);
          } else {
            io.out(`审计链被篡改 / audit trail NOT intact: ${r.problems.length} problem(s), first: [${r.first?.kind}] ${r.first?.message}`);
            for (const p of r.problems.slice(1, 20)) io.out(`  [${p.kind}] ${p.message}`);
          }
          return r.ok ? 0 : 1;
        }),
    },
    {
      name: 'anchor',
      permission: 'audit.verify',
      summary: 'Sign a checkpoint now, anchor it in the object-locked bucket, and print its receipt (to print, file or send)',
      usage: '[--json]',
      description: 'The receipt carries the signed text, the RSA-SHA256 signature and the signing certificate, so it can be checked later with openssl, without this system. `archive audit verify` fails if the trail in the database ever ends before an anchored checkpoint.',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const r = await rt.audit.anchorReceipt();
          if (values.json) {
            io.out(JSON.stringify(r));
            return;
          }
          const lines = [
            '审计链锚定回执 / AUDIT TRAIL ANCHOR RECEIPT',
            `条目序号 / entry seq:      ${r.seq}`,
            `链哈希 / chain hash:       ${r.hash}`,
            `时间 / at:                 ${r.at}`,
            `存证 / anchored at:        s3://${r.location.bucket}/${r.location.key} (version ${r.location.versionId ?? '-'})`,
            `锁定 / object lock:        ${r.location.mode ?? '?'} until ${r.location.retainUntil ?? '?'}`,
            `证书指纹 / cert SHA-256:   ${r.certFingerprint}`,
            `签名算法 / algorithm:      ${r.algorithm}`,
            '签名原文 / signed text (between the lines, no trailing newline):',
            '----',
            r.payload,
            '----',
            `签名 / signature (base64): ${r.signature}`,
            '核验 / to check: save the text as payload.txt (printf, no newline), the signature as sig.b64 and the certificate below as cert.pem, then',
            '  base64 -d sig.b64 > sig.bin && openssl x509 -in cert.pem -pubkey -noout > pub.pem && openssl dgst -sha256 -verify pub.pem -signature sig.bin payload.txt',
            r.certPem.trim(),
          ];
          for (const l of lines) io.out(l);
        }),
    },
    {
      name: 'list',
      permission: 'audit.read',
      summary: 'Entries, newest first',
      usage: '[--user U] [--action A] [--object ID] [--since ISO] [--limit N]',
      options: {
        user: { type: 'string', description: 'only this actor', valueName: 'U' },
        action: { type: 'string', description: 'only this action, e.g. item.read', valueName: 'A' },
        object: { type: 'string', description: 'only entries about this object (item id, user id…)', valueName: 'ID' },
        since: { type: 'string', description: 'only entries at or after this ISO date/time', valueName: 'ISO' },
        limit: { type: 'string', description: 'at most N entries', valueName: 'N', default: '100' },
      },
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const limit = Number(values.limit ?? 100);
          if (!Number.isInteger(limit) || limit < 1) throw new AppError('validation_failed', { message: '--limit must be a positive integer', zh: '--limit 必须是正整数' });
          const entries = forPrincipal(
            cliPrincipal(rt)!,
            await rt.audit.list({
              actor: typeof values.user === 'string' ? values.user : undefined,
              action: typeof values.action === 'string' ? values.action : undefined,
              objectId: typeof values.object === 'string' ? values.object : undefined,
              securityOnly: seesSecurityEventsOnly(cliPrincipal(rt)!.roles),
              since: parseSince(values.since),
              limit,
            }),
          );
          if (values.json) {
            io.out(JSON.stringify({ entries }));
            return;
          }
          if (!entries.length) io.out('没有符合条件的审计记录 / no matching entries');
          for (const e of entries) {
            const obj = e.object ? ` ${e.object.type}:${e.object.id}` : '';
            io.out(`${String(e.seq).padStart(8)} ${e.at} ${e.actor}${e.role ? `(${e.role})` : ''} ${e.action}${obj} ${e.outcome}${e.ip ? ` from ${e.ip}` : ''}${e.suspect ? '  ⚠ suspect: run "archive audit verify"' : ''}`);
          }
        }),
    },
  ],
};
