/**
 * Accounts, login and sessions.
 *
 * - Login answers the same for an unknown user, a wrong password, a disabled or local account:
 *   401 with one message, after one scrypt verification either way (a dummy hash for unknown
 *   users), so neither the answer nor its timing tells which usernames exist.
 * - Lockout: every password check first claims one of five attempt slots of that username by a
 *   unique insert (`login_slots`, `<username>#<n>`): counting and checking are one atomic step,
 *   so thirty attempts at once still get at most five passwords checked. A failure keeps its slot
 *   for 15 minutes or until the next successful sign-in; with all five taken the username is
 *   locked (429), existing or not, so lockout does not reveal existence either. Failures for twenty
 *   different usernames from one address within the window lock that address for all usernames
 *   (password spraying).
 * - Sessions: a random 256-bit token; only its SHA-256 is stored. Expiry is checked on every
 *   read (no TTL indexes on FerretDB). Logout inserts a revocation keyed by the session.
 * - create-admin hands out a one-time setup secret; "once" is a unique-key insert per account and
 *   credential epoch, so of all secrets ever issued for one epoch at most one is used, and a reset
 *   (next epoch) voids every earlier one. Setup never replaces an existing password.
 * - Credential reset (三员分立): the system administrator asks and gets the first half of the
 *   setup secret; a security administrator approves and gets the second half. Only the account
 *   holder, given both halves by the two, can set the password: no single administrator can.
 * - TOTP secrets are stored sealed (AES-256-GCM under a key derived from the application key in
 *   the blob store, bound to the account id), never in clear.
 */
import crypto, { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { isDuplicateKey } from '../../db';
import type { Connection, Model, Types } from 'mongoose';
import { AppError } from '../../errors';
import { containsIdNumber } from '../../domain/id-number';
import {
  loginFailureModel,
  loginSlotModel,
  sessionModel,
  sessionRevocationModel,
  setupSecretModel,
  setupUseModel,
  totpUseModel,
  userModel,
  type LoginFailureDoc,
  type LoginSlotDoc,
  type SessionDoc,
  type UserDoc,
} from '../../models/user.model';
import type { AuditTrail } from '../audit';
import { checkPasswordPolicy, dummyHash, hashPassword, verifyPassword } from './password';
import { authorize, isRole, type Principal, type Scope } from './policies';
import { matchTotp, verifyTotp } from './totp';

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
  /** where the root key for sealing TOTP secrets comes from (the application key in the blob store) */
  sealRoot?: () => Promise<Buffer>;
}

const TOTP_SEAL_PREFIX = 't1:';
/** Length of each half of a two-part reset secret (base64url of 18 random bytes). */
const HALF = 24;

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

/**
 * A reset request's id: the head of its secret's hash. 24 hex characters, not 16: answers are
 * masked for ID numbers (services/access/personal-data.ts), and one 16-character id in ~120 held
 * a run of 12+ digits, which the masking starred as a cut-off 公民身份号码, so the id handed back
 * could not be used to approve. A hex token of 20+ characters is never masked.
 */
export const RESET_ID_LENGTH = 24;

/**
 * A random secret that is handed to a person through an answer: drawn again in the rare case
 * (about one in a million for 18 bytes) that it holds a run the ID-number masking would star,
 * which would hand back a secret that cannot be used.
 */
function shownSecret(bytes: number): string {
  for (;;) {
    const s = crypto.randomBytes(bytes).toString('base64url');
    if (!containsIdNumber(s)) return s;
  }
}

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
  private readonly slots: Model<LoginSlotDoc>;
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
  private readonly sealRoot: (() => Promise<Buffer>) | undefined;
  private sealKey: Promise<Buffer> | null = null;

  constructor(conn: Connection, opts: AuthOptions = {}) {
    this.users = userModel(conn);
    this.sessions = sessionModel(conn);
    this.revocations = sessionRevocationModel(conn);
    this.failures = loginFailureModel(conn);
    this.slots = loginSlotModel(conn);
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
    this.sealRoot = opts.sealRoot;
  }

  private key(): Promise<Buffer> {
    if (!this.sealRoot) return Promise.reject(new AppError('key_not_found', { message: 'No key to seal TOTP secrets with', zh: '没有用于封存动态口令密钥的密钥' }));
    this.sealKey ??= this.sealRoot().then(
      (root) => Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), 'archive/users/totp/v1', 32)),
      (err: unknown) => {
        this.sealKey = null;
        throw err;
      },
    );
    return this.sealKey;
  }

  /** Seals a TOTP secret for storage, bound to its account (a sealed value copied to another account does not open). */
  async sealTotp(userId: string | Types.ObjectId, secret: string): Promise<string> {
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', await this.key(), nonce);
    c.setAAD(Buffer.from(`totp:${String(userId)}`));
    const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
    return TOTP_SEAL_PREFIX + Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64');
  }

  /** The clear TOTP secret of an account (sealed values opened; a clear one from before sealing read as is). */
  async openTotp(user: Pick<UserDoc, '_id' | 'totpSecret'>): Promise<string | null> {
    const v = user.totpSecret;
    if (!v) return null;
    if (!v.startsWith(TOTP_SEAL_PREFIX)) return v;
    const raw = Buffer.from(v.slice(TOTP_SEAL_PREFIX.length), 'base64');
    try {
      const d = createDecipheriv('aes-256-gcm', await this.key(), raw.subarray(0, 12));
      d.setAAD(Buffer.from(`totp:${String(user._id)}`));
      d.setAuthTag(raw.subarray(raw.length - 16));
      return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
    } catch {
      throw new AppError('integrity_error', { message: 'A TOTP secret does not open with this system\'s key', zh: '动态口令密钥无法解封' });
    }
  }

  /**
   * Enrols a second factor for oneself: `code` must match the new secret. An account that already
   * has one replaces it only with a current code of the old one or its password, so a stolen
   * session cannot swap the factor and keep the account.
   */
  async enrolTotp(userId: string, input: { secret: string; code: string; currentCode?: string; password?: string }): Promise<{ replaced: boolean }> {
    const user = await this.users.findById(userId).lean<UserDoc>();
    if (!user) throw new AppError('not_found', { details: { user: userId } });
    if (!verifyTotp(input.secret, input.code)) throw new AppError('validation_failed', { message: 'The code does not match the secret', zh: '动态验证码与密钥不匹配' });
    const old = await this.openTotp(user);
    if (old) {
      const byCode = input.currentCode !== undefined && matchTotp(old, input.currentCode) !== null;
      const byPassword = !byCode && input.password !== undefined && !!user.passwordHash && (await verifyPassword(input.password, user.passwordHash));
      if (!byCode && !byPassword) {
        void this.audit?.record({ actor: user.username, role: user.roles.join(','), action: 'auth.totp', object: { type: 'user', id: userId }, outcome: 'denied', details: { reason: 'proof_required' } });
        throw new AppError('forbidden', { message: 'A second factor is already set: give a current code of it (currentCode) or your password to replace it', zh: '已设置动态口令：更换须提供当前动态验证码或密码', details: { reason: 'totp_proof_required' } });
      }
    }
    await this.setTotp(userId, input.secret);
    return { replaced: !!old };
  }

  /** Turns on (or replaces) the account's second factor; the caller has checked a code of the new secret (and, to replace one, proof of the old). */
  async setTotp(userId: string | Types.ObjectId, secret: string): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { totpSecret: await this.sealTotp(userId, secret) } });
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
        // Least privilege: no scope until one is given.
        scope: { fonds: input.scope?.fonds ?? [], agencies: input.scope?.agencies ?? [], districts: input.scope?.districts ?? [] },
        clearance: input.clearance ?? 'internal',
        passwordHash: input.password !== undefined ? await hashPassword(input.password) : null,
        local: input.local ?? false,
        totpSecret: null,
      });
      if (input.totpSecret) await this.setTotp(doc._id, input.totpSecret);
      return (await this.users.findById(doc._id).lean<UserDoc>())!;
    } catch (err) {
      if (isDuplicateKey(err)) throw new AppError('conflict', { message: `User ${username} already exists`, zh: `用户 ${username} 已存在` });
      throw err;
    }
  }

  async findUser(username: string): Promise<UserDoc | null> {
    return this.users.findOne({ username: String(username).toLowerCase() }).lean<UserDoc>();
  }

  /** An account by id, for an administrator's action on it (not_found when there is none). */
  async loadUser(id: string): Promise<UserDoc> {
    const user = await this.users.findById(id).lean<UserDoc>();
    if (!user) throw new AppError('not_found', { details: { user: id } });
    return user;
  }

  /**
   * Accounts by username, never with their password hash or TOTP secret: those whose username
   * contains `q` (taken literally), a page of them when `limit` is given, and how many there are.
   */
  async listUsers(opts: { q?: string; offset?: number; limit?: number } = {}): Promise<{ total: number; users: Array<Omit<UserDoc, 'passwordHash' | 'totpSecret'>> }> {
    const filter = opts.q ? { username: { $regex: opts.q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') } } : {};
    let page = this.users.find(filter, { passwordHash: 0, totpSecret: 0 }).sort({ username: 1 });
    if (opts.offset) page = page.skip(opts.offset);
    if (opts.limit !== undefined) page = page.limit(opts.limit);
    const [total, users] = await Promise.all([this.users.countDocuments(filter), page.lean<UserDoc[]>()]);
    return { total, users };
  }

  /** The name people know an account by (at most 100 characters). */
  async setDisplayName(userId: string | Types.ObjectId, displayName: string): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { displayName: displayName.slice(0, 100) } });
  }

  /** The embedded local account the CLI acts as on this machine; it has no password. */
  async ensureLocalOperator(): Promise<UserDoc> {
    const found = await this.findUser(LOCAL_OPERATOR);
    if (found) return found;
    try {
      return await this.createUser({ username: LOCAL_OPERATOR, displayName: '本机操作员 / local operator', roles: ['archivist', 'caseworker'], local: true, clearance: 'internal', scope: { fonds: '*', agencies: '*', districts: '*' } });
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') return (await this.findUser(LOCAL_OPERATOR))!;
      throw err;
    }
  }

  /** Creates an account with no password and returns a one-time setup secret for it. */
  async createAdmin(username: string, role: string | null): Promise<{ user: UserDoc; setupSecret: string; expiresAt: Date }> {
    const user = await this.createUser({ username, roles: role ? [role] : [], clearance: 'public' });
    const setupSecret = shownSecret(24);
    const expiresAt = new Date(Date.now() + this.setupTtlMs);
    await this.setupSecrets.create({ _id: sha256(setupSecret), userId: user._id, expiresAt, epoch: user.credentialEpoch ?? 0 });
    return { user, setupSecret, expiresAt };
  }

  /**
   * Sets the first password with a setup secret (a two-part reset secret: both halves, in order,
   * spaces or a dot between them allowed). Of all secrets issued for the account's current
   * credential epoch exactly one can be used, once (a unique insert keyed by account and epoch);
   * an account that has a password is refused (a reset clears it first); its sessions end.
   */
  async completeSetup(username: string, secret: string, password: string): Promise<UserDoc> {
    const user = await this.findUser(username);
    const invalid = () => new AppError('unauthenticated', { message: 'The setup secret is not valid', zh: '初始化口令无效或已使用' });
    const clean = String(secret).replace(/[\s.]+/g, '');
    const candidates = [sha256(clean), ...(clean.length === 2 * HALF ? [sha256(clean.slice(0, HALF))] : [])];
    const rec = await this.setupSecrets.findOne({ _id: { $in: candidates } }).lean();
    if (!user || !rec || String(rec.userId) !== String(user._id) || rec.expiresAt.getTime() < Date.now()) throw invalid();
    if ((rec.epoch ?? 0) !== (user.credentialEpoch ?? 0)) throw invalid(); // issued before a later reset
    if (rec.requestedBy) {
      // Two-part reset secret: both halves, and the second exists only once a security administrator approved.
      if (clean.length !== 2 * HALF || rec._id !== sha256(clean.slice(0, HALF)) || !rec.secondHash) throw invalid();
      if (!crypto.timingSafeEqual(Buffer.from(rec.secondHash), Buffer.from(sha256(clean.slice(HALF))))) throw invalid();
    }
    if (user.passwordHash) throw invalid(); // never replaces a password: that takes a reset
    checkPasswordPolicy(password, user.username);
    const hash = await hashPassword(password);
    try {
      await this.setupUses.create({ _id: `${String(user._id)}:${user.credentialEpoch ?? 0}`, at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) throw invalid();
      throw err;
    }
    await this.users.updateOne({ _id: user._id }, { $set: { passwordHash: hash } });
    await this.setupSecrets.deleteMany({ userId: user._id });
    await this.revokeSessions(user._id);
    await this.audit?.record({ actor: user.username, role: user.roles.join(','), action: 'auth.setup', object: { type: 'user', id: String(user._id) }, outcome: 'success' });
    return { ...user, passwordHash: hash };
  }

  /**
   * Takes one of the username's attempt slots, or returns null when all are held by failures of
   * the current window (locked). A slot from before the window or the last successful sign-in
   * is freed and retaken; the unique insert decides between racers.
   */
  private async takeSlot(key: string, since: Date): Promise<LoginSlotDoc | null> {
    for (let n = 0; n < this.maxFailures; n++) {
      const id = `${key}#${n}`;
      for (let tries = 0; tries < 2; tries++) {
        const doc = { _id: id, key, at: new Date() };
        try {
          await this.slots.create(doc);
          return doc;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        const held = await this.slots.findById(id).lean<LoginSlotDoc>();
        if (held && held.at.getTime() >= since.getTime()) break; // a live failure (or a check in flight)
        if (held) await this.slots.deleteOne({ _id: id, at: held.at });
      }
    }
    return null;
  }

  private async freeSlot(slot: LoginSlotDoc): Promise<void> {
    await this.slots.deleteOne({ _id: slot._id, at: slot.at });
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
    const locked = async (reason: string) => {
      // Same work as a real attempt, so a locked account is not told apart by timing either.
      await verifyPassword(input.password, await dummyHash());
      void this.audit?.record({ actor: key, ip, action: 'auth.login', outcome: 'denied', details: { reason } });
      return new AppError('rate_limited', { message: 'Too many failed sign-ins; try again later', zh: '登录失败次数过多，请稍后再试', details: { retryAfterSeconds: Math.ceil(this.windowMs / 1000) } });
    };
    // Per address (spraying a few passwords over many usernames, which a per-username lockout never sees).
    const ipLocked = ip !== null && (await this.failures.distinct('key', { ip, at: { $gte: new Date(Date.now() - this.windowMs) } })).length >= this.maxUsernamesPerIp;
    if (ipLocked) throw await locked('address_locked');
    // Per username: no password is checked without a slot, and a failure keeps its slot.
    const slot = await this.takeSlot(key, since);
    if (!slot) throw await locked('locked');
    let keepSlot = true;
    try {
      const usable = user && user.passwordHash && !user.disabled && !user.local;
      const ok = await verifyPassword(input.password, usable ? user.passwordHash! : await dummyHash());
      if (!usable || !ok) throw await fail(!user ? 'unknown_user' : !ok ? 'bad_password' : 'not_allowed');
      const totpSecret = await this.openTotp(user);
      if (totpSecret) {
        if (!input.totp) {
          keepSlot = false; // the password was right; asking for the code is not a failure
          throw new AppError('unauthenticated', { message: 'A one-time code (TOTP) is required', zh: '需要输入动态验证码', details: { totpRequired: true } });
        }
        const step = matchTotp(totpSecret, input.totp);
        if (step === null) throw await fail('bad_totp');
        try {
          // A code is spent once: someone who saw it cannot sign in with it again.
          await this.totpUses.create({ _id: `${String(user._id)}:${step}`, at: new Date() });
        } catch (err) {
          if (isDuplicateKey(err)) throw await fail('totp_replayed');
          throw err;
        }
      }
      keepSlot = false;
      const token = crypto.randomBytes(32).toString('base64url');
      const csrfToken = input.kind === 'cookie' ? crypto.randomBytes(24).toString('base64url') : null;
      const now = new Date();
      const session = (
        await this.sessions.create({ _id: sha256(token), userId: user._id, kind: input.kind ?? 'bearer', csrfHash: csrfToken ? sha256(csrfToken) : null, createdAt: now, expiresAt: new Date(now.getTime() + this.sessionTtlMs), ip })
      ).toObject() as SessionDoc;
      // Signing in frees every slot taken before now (failures before the last success no longer count).
      await this.users.updateOne({ _id: user._id }, { $set: { lastLoginAt: now } });
      void this.audit?.record({ actor: user.username, role: user.roles.join(','), ip, action: 'auth.login', object: { type: 'user', id: String(user._id) }, outcome: 'success', details: { kind: session.kind } });
      return { token, csrfToken, session, user };
    } finally {
      if (!keepSlot) await this.freeSlot(slot).catch(() => undefined);
    }
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
    // The stored secret is sealed at rest (#13): open it as sign-in does.
    const secret = await this.openTotp(user);
    if (!secret) throw await deny('not_enrolled');
    if (input.password !== undefined && !(user.passwordHash && (await verifyPassword(input.password, user.passwordHash)))) throw await deny('bad_password');
    const step = input.totp ? matchTotp(secret, input.totp) : null;
    if (step === null) throw await deny(input.totp ? 'bad_totp' : 'totp_missing');
    try {
      await this.totpUses.create({ _id: `${String(user._id)}:${step}`, at: new Date() });
    } catch (err) {
      if (isDuplicateKey(err)) throw await deny('totp_replayed');
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
   * Forgotten password or lost second factor, step 1 (system administrator): asks for a reset and
   * gets the first half of a setup secret. Nothing changes on the account yet, and the half sets
   * nothing by itself. A newer request replaces an unapproved older one.
   */
  async requestReset(userId: string | Types.ObjectId, requestedBy: string): Promise<{ resetId: string; firstHalf: string; expiresAt: Date }> {
    const user = await this.users.findById(userId).lean<UserDoc>();
    if (!user) throw new AppError('not_found', { details: { user: String(userId) } });
    const firstHalf = shownSecret(18);
    const expiresAt = new Date(Date.now() + this.setupTtlMs);
    await this.setupSecrets.deleteMany({ userId: user._id, secondHash: null, requestedBy: { $ne: null } });
    await this.setupSecrets.create({ _id: sha256(firstHalf), userId: user._id, expiresAt, epoch: (user.credentialEpoch ?? 0) + 1, secondHash: null, requestedBy });
    return { resetId: sha256(firstHalf).slice(0, RESET_ID_LENGTH), firstHalf, expiresAt };
  }

  /** The pending (unapproved, unexpired) reset request for an account, if any. */
  async pendingReset(userId: string | Types.ObjectId): Promise<{ resetId: string; requestedBy: string; expiresAt: Date } | null> {
    const recs = await this.setupSecrets.find({ userId, secondHash: null, requestedBy: { $ne: null } }).lean();
    const rec = recs.filter((r) => r.expiresAt.getTime() > Date.now()).sort((a, b) => b.expiresAt.getTime() - a.expiresAt.getTime())[0];
    return rec ? { resetId: rec._id.slice(0, RESET_ID_LENGTH), requestedBy: rec.requestedBy!, expiresAt: rec.expiresAt } : null;
  }

  /**
   * Step 2 (a security administrator, not the one who asked): the password and TOTP secret are
   * cleared, every session ends, every earlier setup secret is void (the credential epoch moves
   * on), and the approver gets the second half. The account holder needs both halves, from two
   * administrators of different kinds: no single administrator can set the new password.
   */
  async approveReset(userId: string | Types.ObjectId, resetId: string, approvedBy: string): Promise<{ secondHalf: string; expiresAt: Date }> {
    const user = await this.users.findById(userId).lean<UserDoc>();
    if (!user) throw new AppError('not_found', { details: { user: String(userId) } });
    const recs = await this.setupSecrets.find({ userId: user._id, secondHash: null, requestedBy: { $ne: null } }).lean();
    const rec = recs.find((r) => r._id.slice(0, RESET_ID_LENGTH) === resetId && r.expiresAt.getTime() > Date.now());
    if (!rec) throw new AppError('not_found', { message: 'No pending reset request with that id for this account', zh: '该账号没有此待批准的重置申请' });
    if (rec.requestedBy === approvedBy) throw new AppError('forbidden', { message: 'A reset is approved by another administrator than the one who asked', zh: '重置须由申请人以外的管理员批准', details: { reason: 'separation_of_duties' } });
    const epoch = rec.epoch;
    const secondHalf = shownSecret(18);
    await this.users.updateOne({ _id: user._id }, { $set: { passwordHash: null, totpSecret: null, credentialEpoch: epoch } });
    await this.revokeSessions(user._id);
    await this.setupSecrets.deleteMany({ userId: user._id, _id: { $ne: rec._id } });
    await this.setupSecrets.updateOne({ _id: rec._id }, { $set: { secondHash: sha256(secondHalf), approvedBy } });
    return { secondHalf, expiresAt: rec.expiresAt };
  }

  async setRoles(userId: string | Types.ObjectId, roles: string[]): Promise<void> {
    await this.users.updateOne({ _id: userId }, { $set: { roles } });
  }

  /**
   * 授权: the security administrator gives an account its roles, and optionally its scope (each of
   * fonds / agencies / districts given replaces that list) and clearance. One implementation for
   * the API and the CLI: 三员分立 and self-grant are checked by policies.authorize, the refusal or
   * the change goes into the trail, and the account as it now is comes back.
   */
  async grantRoles(
    who: Principal,
    target: UserDoc,
    change: { roles: string[]; scope?: Partial<Scope>; clearance?: string },
    ctx: { levels: readonly string[]; ip?: string | null },
  ): Promise<UserDoc> {
    if (change.clearance !== undefined && !ctx.levels.includes(change.clearance)) {
      throw new AppError('validation_failed', { message: `clearance must be one of ${ctx.levels.join(', ')}`, zh: '密级标签不在配置的范围内' });
    }
    const object = { type: 'user', id: String(target._id) };
    const d = authorize(who, 'role.grant', { targetUserId: String(target._id), targetRoles: change.roles });
    if (!d.allowed) {
      await this.audit?.record({ actor: who.username, role: who.roles.join(','), ip: ctx.ip ?? null, action: 'role.grant', object, outcome: 'denied', details: { reason: d.reason, roles: change.roles } });
      throw new AppError('forbidden', { details: { action: 'role.grant', reason: d.reason } });
    }
    const set: Record<string, unknown> = { roles: change.roles, ...(change.clearance ? { clearance: change.clearance } : {}) };
    for (const [k, v] of Object.entries(change.scope ?? {})) set[`scope.${k}`] = v;
    await this.users.updateOne({ _id: target._id }, { $set: set });
    await this.audit?.record({ actor: who.username, role: who.roles.join(','), ip: ctx.ip ?? null, action: 'role.grant', object, outcome: 'success', details: { roles: change.roles, before: target.roles, clearance: change.clearance ?? null, scope: change.scope && Object.keys(change.scope).length ? change.scope : null } });
    return (await this.users.findById(target._id).lean<UserDoc>())!;
  }
}
