/**
 * Accounts, login and sessions.
 *
 * - Login answers the same for an unknown user, a wrong password, a disabled or local account:
 *   401 with one message, after one scrypt verification either way (a dummy hash for unknown
 *   users), so neither the answer nor its timing tells which usernames exist.
 * - Lockout: failures are inserted (one document each, for any username typed); five within
 *   15 minutes since the last success lock that username for the rest of the window, existing or
 *   not, so lockout does not reveal existence either. Failures for twenty different usernames from
 *   one address within the window lock that address for all usernames (password spraying).
 * - Sessions: a random 256-bit token; only its SHA-256 is stored. Expiry is checked on every
 *   read (no TTL indexes on FerretDB). Logout inserts a revocation keyed by the session.
 * - create-admin hands out a one-time setup secret; "once" is a unique-key insert.
 */
import crypto from 'node:crypto';
import { isDuplicateKey } from '../../db';
import type { Connection, Model, Types } from 'mongoose';
import { AppError } from '../../errors';
import {
  loginFailureModel,
  sessionModel,
  sessionRevocationModel,
  setupSecretModel,
  setupUseModel,
  totpUseModel,
  userModel,
  type LoginFailureDoc,
  type SessionDoc,
  type UserDoc,
} from '../../models/user.model';
import type { AuditTrail } from '../audit';
import { checkPasswordPolicy, dummyHash, hashPassword, verifyPassword } from './password';
import { isRole, type Principal, type Scope } from './policies';
import { matchTotp } from './totp';

export const LOCAL_OPERATOR = 'operator';

export interface AuthOptions {
  audit?: AuditTrail;
  sessionTtlMs?: number;
  maxFailures?: number;
  /** distinct usernames that failed to sign in from one address within the window before it is refused */
  maxUsernamesPerIp?: number;
  lockoutWindowMs?: number;
  setupTtlMs?: number;
  /** administrators and approvers must enrol TOTP before they can do anything else */
  requireTotp?: boolean;
}

/** Who must use a second factor when requireTotp is on: the 三员 and the approvers of destruction. */
export const TOTP_ROLES: readonly string[] = ['sysadmin', 'secadmin', 'secauditor', 'agency_head', 'appraisal_member', 'disposal_supervisor'];

export interface NewUser {
  username: string;
  displayName?: string;
  roles: string[];
  scope?: Partial<Scope>;
  clearance?: string;
  password?: string;
  local?: boolean;
  totpSecret?: string | null;
}

export interface AuthenticatedSession {
  principal: Principal;
  session: SessionDoc;
}

const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;

export function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

export function toPrincipal(u: UserDoc): Principal {
  return { id: String(u._id), username: u.username, roles: u.roles, scope: { fonds: u.scope?.fonds ?? [], agencies: u.scope?.agencies ?? [], districts: u.scope?.districts ?? [] }, clearance: u.clearance, disabled: u.disabled };
}

const BAD_LOGIN = () => new AppError('unauthenticated', { message: 'Wrong username or password', zh: '用户名或密码错误' });

export class AuthService {
  readonly users: Model<UserDoc>;
  private readonly sessions: Model<SessionDoc>;
  private readonly revocations: ReturnType<typeof sessionRevocationModel>;
  private readonly failures: Model<LoginFailureDoc>;
  private readonly setupSecrets: ReturnType<typeof setupSecretModel>;
  private readonly setupUses: ReturnType<typeof setupUseModel>;
  private readonly totpUses: ReturnType<typeof totpUseModel>;
  private readonly audit: AuditTrail | undefined;
  readonly sessionTtlMs: number;
  private readonly maxFailures: number;
  private readonly maxUsernamesPerIp: number;
  private readonly windowMs: number;
  private readonly setupTtlMs: number;
  private readonly requireTotp: boolean;

  constructor(conn: Connection, opts: AuthOptions = {}) {
    this.users = userModel(conn);
    this.sessions = sessionModel(conn);
    this.revocations = sessionRevocationModel(conn);
    this.failures = loginFailureModel(conn);
    this.setupSecrets = setupSecretModel(conn);
    this.setupUses = setupUseModel(conn);
    this.totpUses = totpUseModel(conn);
    this.audit = opts.audit;
    this.sessionTtlMs = opts.sessionTtlMs ?? 8 * 3600_000;
    this.maxFailures = opts.maxFailures ?? 5;
    this.maxUsernamesPerIp = opts.maxUsernamesPerIp ?? 20;
    this.windowMs = opts.lockoutWindowMs ?? 15 * 60_000;
    this.setupTtlMs = opts.setupTtlMs ?? 24 * 3600_000;
    this.requireTotp = opts.requireTotp ?? false;
  }

  async createUser(input: NewUser): Promise<UserDoc> {
    const username = input.username.toLowerCase();
    if (!USERNAME.test(username)) throw new AppError('validation_failed', { message: 'Username: 2-64 lower-case letters, digits, dot, dash, underscore', zh: '用户名须为 2-64 位小写字母、数字、点、横线或下划线' });
    const unknown = input.roles.filter((r) => !isRole(r));
    if (unknown.length) throw new AppError('validation_failed', { message: `Unknown role(s): ${unknown.join(', ')}`, zh: `未知角色：${unknown.join('、')}` });
    if (input.password !== undefined) checkPasswordPolicy(input.password, username);
    try {
      const doc = await this.users.create({
        username,
        displayName: input.displayName ?? '',
        roles: input.roles,
        scope: { fonds: input.scope?.fonds ?? '*', agencies: input.scope?.agencies ?? '*', districts: input.scope?.districts ?? '*' },
        clearance: input.clearance ?? 'internal',
        passwordHash: input.password !== undefined ? await hashPassword(input.password) : null,
        local: input.local ?? false,
        totpSecret: input.totpSecret ?? null,
      });
      return doc.toObject() as UserDoc;
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('conflict', { message: `User ${username} already exists`, zh: `用户 ${username} 已存在` });
      throw err;
    }
  }

  async findUser(username: string): Promise<UserDoc | null> {
    return this.users.findOne({ username: String(username).toLowerCase() }).lean<UserDoc>();
  }

  /** The embedded local account the CLI acts as on this machine; it has no password. */
  async ensureLocalOperator(): Promise<UserDoc> {
    const found = await this.findUser(LOCAL_OPERATOR);
    if (found) return found;
    try {
      return await this.createUser({ username: LOCAL_OPERATOR, displayName: '本机操作员 / local operator', roles: ['archivist', 'caseworker'], local: true, clearance: 'internal' });
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') return (await this.findUser(LOCAL_OPERATOR))!;
      throw err;
    }
  }

  /** Creates an account with no password and returns a one-time setup secret for it. */
  async createAdmin(username: string, role: string | null): Promise<{ user: UserDoc; setupSecret: string; expiresAt: Date }> {
    const user = await this.createUser({ username, roles: role ? [role] : [], clearance: 'public' });
    const setupSecret = crypto.randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.setupTtlMs);
    await this.setupSecrets.create({ _id: sha256(setupSecret), userId: user._id, expiresAt });
    return { user, setupSecret, expiresAt };
  }

  /** Sets the first password with a setup secret. The secret works exactly once. */
  async completeSetup(username: string, secret: string, password: string): Promise<UserDoc> {
    const user = await this.findUser(username);
    const rec = await this.setupSecrets.findById(sha256(secret)).lean();
    const invalid = () => new AppError('unauthenticated', { message: 'The setup secret is not valid', zh: '初始化口令无效或已使用' });
    if (!user || !rec || String(rec.userId) !== String(user._id) || rec.expiresAt.getTime() < Date.now()) throw invalid();
    checkPasswordPolicy(password, user.username);
    const hash = await hashPassword(password);
    try {
      await this.setupUses.create({ _id: rec._id, at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) throw invalid();
      throw err;
    }
    await this.users.updateOne({ _id: user._id }, { $set: { passwordHash: hash } });
    void this.audit?.record({ actor: user.username, role: user.roles.join(','), action: 'auth.setup', object: { type: 'user', id: String(user._id) }, outcome: 'success' });
    return { ...user, passwordHash: hash };
  }

  private async recentFailures(key: string, since: Date): Promise<number> {
    return this.failures.countDocuments({ key, at: { $gte: since } });
  }

  async login(input: { username: string; password: string; totp?: string; ip?: string | null; kind?: 'bearer' | 'cookie' }): Promise<{ token: string; csrfToken: string | null; session: SessionDoc; user: UserDoc }> {
    const key = String(input.username).toLowerCase().slice(0, 128);
    const ip = input.ip ?? null;
    const user = await this.findUser(key);
    const lastLogin = user?.lastLoginAt?.getTime() ?? 0;
    const since = new Date(Math.max(Date.now() - this.windowMs, lastLogin));
    const fail = async (reason: string, err: AppError = BAD_LOGIN()) => {
      await this.failures.create({ key, at: new Date(), ip });
      void this.audit?.record({ actor: key, ip, action: 'auth.login', object: user ? { type: 'user', id: String(user._id) } : null, outcome: 'failure', details: { reason } });
      return err;
    };
    // Per username (guessing one password) and per address (spraying a few passwords over many
    // usernames, which a per-username lockout never sees).
    const ipLocked = ip !== null && (await this.failures.distinct('key', { ip, at: { $gte: new Date(Date.now() - this.windowMs) } })).length >= this.maxUsernamesPerIp;
    if (ipLocked || (await this.recentFailures(key, since)) >= this.maxFailures) {
      // Same work as a real attempt, so a locked account is not told apart by timing either.
      await verifyPassword(input.password, await dummyHash());
      void this.audit?.record({ actor: key, ip, action: 'auth.login', outcome: 'denied', details: { reason: ipLocked ? 'address_locked' : 'locked' } });
      throw new AppError('rate_limited', { message: 'Too many failed sign-ins; try again later', zh: '登录失败次数过多，请稍后再试', details: { retryAfterSeconds: Math.ceil(this.windowMs / 1000) } });
    }
    const usable = user && user.passwordHash && !user.disabled && !user.local;
    const ok = await verifyPassword(input.password, usable ? user.passwordHash! : await dummyHash());
    if (!usable || !ok) throw await fail(!user ? 'unknown_user' : !ok ? 'bad_password' : 'not_allowed');
    if (user.totpSecret) {
      if (!input.totp) throw new AppError('unauthenticated', { message: 'A one-time code (TOTP) is required', zh: '需要输入动态验证码', details: { totpRequired: true } });
      const step = matchTotp(user.totpSecret, input.totp);
      if (step === null) throw await fail('bad_totp');
      try {
        // A code is spent once: someone who saw it cannot sign in with it again.
        await this.totpUses.create({ _id: `${String(user._id)}:${step}`, at: new Date() });
      } catch (err) {
        if (isDuplicateKey(err)) throw await fail('totp_replayed');
        throw err;
      }
    }
    const token = crypto.randomBytes(32).toString('base64url');
    const csrfToken = input.kind === 'cookie' ? crypto.randomBytes(24).toString('base64url') : null;
    const now = new Date();
    const session = (
      await this.sessions.create({ _id: sha256(token), userId: user._id, kind: input.kind ?? 'bearer', csrfHash: csrfToken ? sha256(csrfToken) : null, createdAt: now, expiresAt: new Date(now.getTime() + this.sessionTtlMs), ip })
    ).toObject() as SessionDoc;
    await this.users.updateOne({ _id: user._id }, { $set: { lastLoginAt: now } });
    void this.audit?.record({ actor: user.username, role: user.roles.join(','), ip, action: 'auth.login', object: { type: 'user', id: String(user._id) }, outcome: 'success', details: { kind: session.kind } });
    return { token, csrfToken, session, user };
  }

  /**
   * Re-authentication at the moment of signing (destruction approvals, supervisors): the account's
   * TOTP code, spent once like a sign-in code, and, when given, its password. An account without
   * a second factor cannot sign. Throws second_factor_required / unauthenticated.
   */
  async confirmSigner(userId: string, input: { totp?: string; password?: string }): Promise<UserDoc> {
    const user = await this.users.findById(userId).lean<UserDoc>();
    const deny = async (reason: string) => {
      void this.audit?.record({ actor: user?.username ?? userId, action: 'auth.reauthenticate', object: { type: 'user', id: String(userId) }, outcome: 'failure', details: { reason } });
      return new AppError('second_factor_required', { details: { reason } });
    };
    if (!user || user.disabled) throw await deny('no_account');
    if (!user.totpSecret) throw await deny('not_enrolled');
    if (input.password !== undefined && !(user.passwordHash && (await verifyPassword(input.password, user.passwordHash)))) throw await deny('bad_password');
    const step = input.totp ? matchTotp(user.totpSecret, input.totp) : null;
    if (step === null) throw await deny(input.totp ? 'bad_totp' : 'totp_missing');
    try {
      await this.totpUses.create({ _id: `${String(user._id)}:${step}`, at: new Date() });
    } catch (err) {
      if ((err as { code?: number }).code === 11000) throw await deny('totp_replayed');
      throw err;
    }
    return user;
  }

  /** True while an account that must use a second factor has not enrolled one. */
  mustEnrolTotp(user: Pick<UserDoc, 'roles' | 'totpSecret' | 'local'>): boolean {
    return this.requireTotp && !user.local && !user.totpSecret && user.roles.some((r) => TOTP_ROLES.includes(r));
  }

  /** The session and user for a token, or null when unknown, expired, revoked or disabled. */
  async authenticate(token: string): Promise<{ session: SessionDoc; user: UserDoc } | null> {
    if (!token || token.length > 200) return null;
    const session = await this.sessions.findById(sha256(token)).lean<SessionDoc>();
    if (!session || session.expiresAt.getTime() <= Date.now()) return null;
    if (await this.revocations.exists({ _id: session._id })) return null;
    const user = await this.users.findById(session.userId).lean<UserDoc>();
    if (!user || user.disabled) return null;
    return { session, user };
  }

  async logout(session: SessionDoc, actor: string): Promise<void> {
    try {
      await this.revocations.create({ _id: session._id, at: new Date() });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    void this.audit?.record({ actor, action: 'auth.logout', object: { type: 'session', id: session._id.slice(0, 12) }, outcome: 'success' });
  }

  /** Ends every session of the account at once (disable, credential reset). */
  async revokeSessions(userId: string | Types.ObjectId): Promise<number> {
    const sessions = await this.sessions.find({ userId }, { _id: 1 }).lean();
    let n = 0;
    for (const sess of sessions) {
      try {
        await this.revocations.create({ _id: sess._id, at: new Date() });
        n++;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
    }
    return n;
  }

  /** Disables (every session ends, sign-in refused) or re-enables an account. */
  async setDisabled(userId: string | Types.ObjectId, disabled: boolean): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { disabled } });
    if (disabled) await this.revokeSessions(userId);
  }

  /**
   * Forgotten password or lost second factor: the password and TOTP secret are cleared, every
   * session ends, and a one-time setup secret (as for a new account) lets the person set a new
   * password. Nobody, the administrator included, learns or chooses that password.
   */
  async resetCredentials(userId: string | Types.ObjectId): Promise<{ setupSecret: string; expiresAt: Date }> {
    await this.users.updateOne({ _id: userId }, { $set: { passwordHash: null, totpSecret: null } });
    await this.revokeSessions(userId);
    const setupSecret = crypto.randomBytes(24).toString('base64url');
    const expiresAt = new Date(Date.now() + this.setupTtlMs);
    await this.setupSecrets.create({ _id: sha256(setupSecret), userId, expiresAt });
    return { setupSecret, expiresAt };
  }

  async setRoles(userId: string | Types.ObjectId, roles: string[]): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { roles } });
  }
}
