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
  /** RFC 6238 secret (base32) when TOTP is required */
  totpSecret: string | null;
  disabled: boolean;
  /** failures before this no longer count toward lockout */
  lastLoginAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const scopeList = { type: Schema.Types.Mixed, required: true, default: '*' };

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

/** A one-time setup secret for an account without a password (create-admin): used once, then gone. */
export interface SetupSecretDoc {
  /** SHA-256 of the secret */
  _id: string;
  userId: Types.ObjectId;
  expiresAt: Date;
}

const setupSchema = new Schema<SetupSecretDoc>(
  { _id: { type: String, required: true }, userId: { type: Schema.Types.ObjectId, required: true }, expiresAt: { type: Date, required: true } },
  { versionKey: false },
);

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
export const setupSecretModel = (conn: Connection): Model<SetupSecretDoc> => model(conn, 'SetupSecret', setupSchema, 'setup_secrets');
/** A TOTP step already used to sign in (`<userId>:<step>`): a code works once, exactly. */
export const totpUseModel = (conn: Connection): Model<SetupUseDoc> => model(conn, 'TotpUse', setupUseSchema.clone(), 'totp_uses');
export const setupUseModel = (conn: Connection): Model<SetupUseDoc> => model(conn, 'SetupUse', setupUseSchema, 'setup_uses');
