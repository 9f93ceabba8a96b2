/** Small helpers the disposition room's services share: audit, refusal, ids, time. */
import { createHash } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import { OBJECT_ID } from '../../domain/ids';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import type { Principal } from '../access';

export const ID = OBJECT_ID;

export function audit(rt: Runtime, who: Pick<Principal, 'username' | 'roles'> | { username: string; roles: readonly string[] }, action: string, object: { type: string; id: string }, outcome: 'success' | 'denied' | 'failure', details: Record<string, unknown> = {}): Promise<void> {
  return rt.audit.record({ actor: who.username, role: who.roles.join(','), action, object, outcome, details });
}

/** Refuses with 403 and writes the refusal to the audit trail (separation of duties, wrong person). */
export async function refuse(rt: Runtime, who: Principal, action: string, object: { type: string; id: string }, reason: string, msg: { en: string; zh: string }): Promise<never> {
  await audit(rt, who, action, object, 'denied', { reason });
  throw new AppError('forbidden', { message: msg.en, zh: msg.zh, details: { action, reason } });
}

export function notFound(what: string, zh: string): AppError {
  return new AppError('not_found', { message: `No such ${what}`, zh: `${zh}不存在` });
}

export const isDup = isDuplicateKey;

/** Inserts; a duplicate key means someone did it already: returns false. */
export async function insertOnce(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return true;
  } catch (err) {
    if (isDup(err)) return false;
    throw err;
  }
}

export function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Today's calendar date (UTC) or the given one, checked. */
export function isoDay(d?: string | Date): string {
  if (d === undefined) return new Date().toISOString().slice(0, 10);
  if (d instanceof Date) return d.toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw new AppError('validation_failed', { message: `Not a date (YYYY-MM-DD): ${d}`, zh: `日期格式不正确（应为 YYYY-MM-DD）：${d}` });
  return d;
}

/** Mongo filter on the principal's fonds scope. */
export function fondsFilter(who: Principal): Record<string, unknown> {
  return who.scope.fonds === '*' ? {} : { fonds: { $in: who.scope.fonds } };
}
