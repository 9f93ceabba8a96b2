/**
 * Accounts, sessions and login attempts.
 *
 * Sessions and login failures are insert-only on purpose: FerretDB's conditional updates and
 * $inc are not exact under concurrency, but a unique-key insert is. A session is revoked by
 * inserting its revocation; a failed login is one inserted document, and lockout counts them.
 * Nothing expires by itself (no TTL indexes): every read checks expiresAt.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface UserDoc {
  _id: Types.ObjectId;
  username: string;
  displayName: string;
  roles: string[];
  scope: { fonds: string[] | '*'; agencies: string[] | '*'; districts: string[] | '*' };
  clearance: string;
  /** scrypt$N$r$p$salt$hash (see services/password.ts); null: no password login */
  passwordHash: string | null;
  /** local accounts (the embedded `operator`) act only through the CLI on this machine */
  local: boolean;
  /** RFC 6238 secret when TOTP is on, stored sealed (`t1:` AES-256-GCM, services/access/auth.ts); never in clear */
  totpSecret: string | null;
  /** bumped by every credential reset: setup secrets of an earlier epoch are void, and one secret per epoch is ever used */
  credentialEpoch: number;
  disabled: boolean;
  /** failures before this no longer count toward lockout */
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

// Least privilege: an account sees no fonds, agency or district until a security administrator gives it some.
const scopeList = { type: Schema.Types.Mixed, required: true, default: () => [] };

const userSchema = new Schema<UserDoc>(
  {
    username: { type: String, required: true },
    displayName: { type: String, default: '' },
    roles: { type: [String], default: [] },
    scope: { fonds: scopeList, agencies: scopeList, districts: scopeList },
    clearance: { type: String, required: true, default: 'public' },
    passwordHash: { type: String, default: null },
    local: { type: Boolean, default: false },
    totpSecret: { type: String, default: null },
    credentialEpoch: { type: Number, default: 0 },
    disabled: { type: Boolean, default: false },
    lastLoginAt: { type: Date, default: null },
  },
  { timestamps: true, minimize: false },
);
userSchema.index({ username: 1 }, { unique: true });

export interface SessionDoc {
  /** SHA-256 (hex) of the bearer token: the token itself is never stored */
  _id: string;
  userId: Types.ObjectId;
  kind: 'bearer' | 'cookie';
  /** SHA-256 of the CSRF token for cookie sessions (double-submit) */
  csrfHash: string | null;
  createdAt: Date;
  expiresAt: Date;
  ip: string | null;
}

const sessionSchema = new Schema<SessionDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    kind: { type: String, enum: ['bearer', 'cookie'], required: true },
    csrfHash: { type: String, default: null },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    ip: { type: String, default: null },
  },
  { versionKey: false },
);

/** A revocation, keyed by the session's _id: inserting it is the logout. */
export interface SessionRevocationDoc {
  _id: string;
  at: Date;
}

const revocationSchema = new Schema<SessionRevocationDoc>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

/**
 * A sign-in attempt's slot: `<username>#<n>`, n < the lockout limit. Every password check first
 * claims a free slot by a unique insert (atomic on FerretDB, unlike counting and then checking):
 * a failure keeps its slot until the window passes or the account signs in, so no more than the
 * limit of passwords are ever checked per window, however many arrive at once.
 */
export interface LoginSlotDoc {
  _id: string;
  key: string;
  at: Date;
}

const loginSlotSchema = new Schema<LoginSlotDoc>({ _id: { type: String, required: true }, key: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

/** One failed login for a (lower-cased) username, whether or not the account exists. */
export interface LoginFailureDoc {
  _id: Types.ObjectId;
  key: string;
  at: Date;
  ip: string | null;
}

const failureSchema = new Schema<LoginFailureDoc>({ key: { type: String, required: true }, at: { type: Date, required: true }, ip: { type: String, default: null } }, { versionKey: false });
failureSchema.index({ key: 1 });
failureSchema.index({ ip: 1 });

/**
 * A one-time setup secret for an account without a password (create-admin, create, reset): used
 * once, then gone. A reset's secret has two parts from two administrators of different kinds
 * (三员分立): `_id` hashes the first part, `secondHash` the second, which exists only once a
 * security administrator approved the reset; until then the secret sets nothing.
 */
export interface SetupSecretDoc {
  /** SHA-256 of the secret (of its first part, for a two-part reset secret) */
  _id: string;
  userId: Types.ObjectId;
  expiresAt: Date;
  /** the account's credentialEpoch when issued: a later reset voids it */
  epoch: number;
  /** two-part secrets: SHA-256 of the second part; null until approved */
  secondHash?: string | null;
  /** two-part secrets: who asked (sysadmin) and who approved (secadmin) */
  requestedBy?: string | null;
  approvedBy?: string | null;
}

const setupSchema = new Schema<SetupSecretDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    expiresAt: { type: Date, required: true },
    epoch: { type: Number, default: 0 },
    secondHash: { type: String, default: null },
    requestedBy: { type: String, default: null },
    approvedBy: { type: String, default: null },
  },
  { versionKey: false },
);
setupSchema.index({ userId: 1 });

/** Marks a setup secret as spent; the unique _id makes "use once" exact under concurrency. */
export interface SetupUseDoc {
  _id: string;
  at: Date;
}

const setupUseSchema = new Schema<SetupUseDoc>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

function model<T>(conn: Connection, name: string, schema: Schema<T>, collection: string): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema, collection);
}

export const userModel = (conn: Connection): Model<UserDoc> => model(conn, 'User', userSchema, 'users');
export const sessionModel = (conn: Connection): Model<SessionDoc> => model(conn, 'Session', sessionSchema, 'sessions');
export const sessionRevocationModel = (conn: Connection): Model<SessionRevocationDoc> => model(conn, 'SessionRevocation', revocationSchema, 'session_revocations');
export const loginFailureModel = (conn: Connection): Model<LoginFailureDoc> => model(conn, 'LoginFailure', failureSchema, 'login_failures');
export const loginSlotModel = (conn: Connection): Model<LoginSlotDoc> => model(conn, 'LoginSlot', loginSlotSchema, 'login_slots');
export const setupSecretModel = (conn: Connection): Model<SetupSecretDoc> => model(conn, 'SetupSecret', setupSchema, 'setup_secrets');
/** A TOTP step already used to sign in (`<userId>:<step>`): a code works once, exactly. */
export const totpUseModel = (conn: Connection): Model<SetupUseDoc> => model(conn, 'TotpUse', setupUseSchema.clone(), 'totp_uses');
export const setupUseModel = (conn: Connection): Model<SetupUseDoc> => model(conn, 'SetupUse', setupUseSchema, 'setup_uses');
