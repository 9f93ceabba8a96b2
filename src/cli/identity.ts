/**
 * Who a CLI command acts as, checked and audited like an API call.
 *
 * dispatch() notes the command being run (its permission and --as) here; withRuntime() then
 * resolves the account (--as, else ARCHIVE_USER, else the embedded local `operator`), asks
 * policies.authorize, and records the outcome in the audit trail. So every command that opens
 * a Runtime is checked without the command doing anything. The CLI talks to the database
 * directly: this is accountability and least privilege for people at the machine, while the
 * database credentials remain the boundary against someone with a shell.
 */
import { cliInvocation, type CliInvocation } from './invocation';
import { requestedCliUser } from './acting-as';
import { AppError } from '../errors';
import type { Runtime } from '../runtime';
import { LOCAL_OPERATOR, toPrincipal } from '../services/access';
import { maskPersonalData } from '../services/access';
import { authorize, authorizeItem, ingestFonds, type ItemAccess, type Principal } from '../services/access';
import { DEFAULT_PERMISSION } from '../api/route';

export { cliInvocation, type CliInvocation } from './invocation';

/** Names the object and details of the running command's audit entry (a search's query and hit count). */
export function describeCliForAudit(object: { type: string; id: string } | null, details: Record<string, unknown> = {}): void {
  const inv = cliInvocation.getStore();
  if (!inv) return;
  if (object) inv.auditObject = object;
  inv.auditDetails = { ...inv.auditDetails, ...details };
}

const principals = new WeakMap<Runtime, Principal>();

/** What the account may be shown: ID numbers masked unless it holds 'personal.full' (as for the API). */
export function forPrincipal<T>(who: Principal, value: T): T {
  return authorize(who, 'personal.full').allowed ? value : maskPersonalData(value).value;
}

/** The account the current command acts as (after withRuntime checked it). */
export function cliPrincipal(rt: Runtime): Principal | undefined {
  return principals.get(rt);
}

export async function resolveCliPrincipal(rt: Runtime, inv: CliInvocation): Promise<Principal> {
  return cliPrincipalNamed(rt, requestedCliUser(inv));
}

/**
 * The active account of a requested CLI name (undefined: the local operator). The control socket
 * calls this with the name the `archive search` client resolved by requestedCliUser.
 */
export async function cliPrincipalNamed(rt: Runtime, requested: string | undefined): Promise<Principal> {
  const username = (requested ?? LOCAL_OPERATOR).toLowerCase();
  const user = username === LOCAL_OPERATOR ? await rt.auth.ensureLocalOperator() : await rt.auth.findUser(username);
  if (!user || user.disabled) {
    throw new AppError('unauthenticated', { message: `No active account "${username}" (set --as or ARCHIVE_USER)`, zh: `账号 "${username}" 不存在或已停用（用 --as 或 ARCHIVE_USER 指定）` });
  }
  return toPrincipal(user);
}

type AuditOutcome = (outcome: 'success' | 'failure') => void;

/** Checks the current command's permission; returns a function that audits how it ended. */
export async function checkCliCommand(rt: Runtime): Promise<AuditOutcome> {
  const inv = cliInvocation.getStore();
  if (!inv) return () => undefined; // not from the command line (tests, scripts calling services)
  const { principal, done } = await checkInvocation(rt, inv, requestedCliUser(inv));
  principals.set(rt, principal);
  return done;
}

/**
 * A CLI command run for a client of the API's control socket (`archive search`), in the API
 * process: the same account resolution, permission check, refusal and outcome audit as
 * withRuntime gives a command run in its own process. `requested` is the name the client sent
 * (requestedCliUser on its side); fn gets the account (one runtime serves many callers, so it is
 * handed over rather than kept per runtime as cliPrincipal does). Run it inside cliInvocation.run(inv).
 */
export async function runAsCliAccount<T>(rt: Runtime, inv: CliInvocation, requested: string | undefined, fn: (me: Principal) => Promise<T>): Promise<T> {
  const { principal, done } = await checkInvocation(rt, inv, requested);
  return withOutcomeAudited(done, () => fn(principal));
}

/** Runs a checked command and hands how it ended (success or failure) to its outcome audit. */
export async function withOutcomeAudited<T>(done: AuditOutcome, fn: () => Promise<T>): Promise<T> {
  let outcome: 'success' | 'failure' = 'failure';
  try {
    const result = await fn();
    outcome = 'success';
    return result;
  } finally {
    done(outcome);
  }
}

async function checkInvocation(rt: Runtime, inv: CliInvocation, requested: string | undefined): Promise<{ principal: Principal; done: AuditOutcome }> {
  const principal = await cliPrincipalNamed(rt, requested);
  const action = inv.permission ?? DEFAULT_PERMISSION;
  const base = { actor: principal.username, role: principal.roles.join(','), ip: 'cli', object: { type: 'command', id: inv.command } };
  if (action !== 'local') {
    const d = authorize(principal, action);
    if (!d.allowed) {
      await rt.audit.record({ ...base, action, outcome: 'denied', details: { reason: d.reason } });
      throw new AppError('forbidden', { message: `${principal.username} may not run "${inv.command}" (needs ${action}: ${d.reason})`, zh: `${principal.username} 无权执行 "${inv.command}"（需要 ${action} 权限）`, details: { action, reason: d.reason } });
    }
  }
  return {
    principal,
    done: (outcome) => {
      void rt.audit.record({ ...base, ...(inv.auditObject ? { object: inv.auditObject } : {}), action: action === 'local' ? 'system.local' : action, outcome, ...(inv.auditDetails ? { details: inv.auditDetails } : {}) }).catch(() => undefined);
    },
  };
}

/** Runs a check of services/access; a refusal goes into the trail as the API records one. */
async function refusalsAudited<T>(rt: Runtime, action: string, object: { type: string; id: string }, check: () => T | Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    const me = principals.get(rt);
    if (me && err instanceof AppError && err.code === 'forbidden') {
      await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action, object, outcome: 'denied', details: { reason: err.details?.reason } });
    }
    throw err;
  }
}

/** The item a command acts on, checked by access.authorizeItem: the API's loadReadable check. */
export function cliItem(rt: Runtime, id: string, action = 'item.read'): Promise<ItemAccess> {
  return refusalsAudited(rt, action, { type: 'item', id }, () => authorizeItem(rt, cliPrincipal(rt)!, id, action));
}

/** The fonds an ingest goes into, checked by access.ingestFonds: the API's ingest check. */
export function cliIngestFonds(rt: Runtime, requested: string | undefined): Promise<string> {
  return refusalsAudited(rt, 'item.ingest', { type: 'fonds', id: requested ?? rt.config.fonds }, () => ingestFonds(rt, cliPrincipal(rt)!, requested));
}
