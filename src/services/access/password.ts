/**
 * Password hashing with node's scrypt, and the password policy.
 *
 * Parameters: N = 2^15, r = 8, p = 1, 32-byte key, 16-byte random salt (OWASP's scrypt floor;
 * about 32 MiB and tens of milliseconds per hash). They are stored with each hash
 * (`scrypt$N$r$p$salt$hash`, base64url), so raising them later only affects new hashes.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { AppError } from '../../errors';

const scrypt = promisify(crypto.scrypt) as (pw: crypto.BinaryLike, salt: crypto.BinaryLike, keylen: number, opts: crypto.ScryptOptions) => Promise<Buffer>;

export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, keyLen: 32, saltLen: 16 } as const;

export async function hashPassword(password: string, params = SCRYPT_PARAMS): Promise<string> {
  const salt = crypto.randomBytes(params.saltLen);
  const key = await scrypt(password.normalize('NFC'), salt, params.keyLen, { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r });
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, saltB64, keyB64] = stored.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64url');
  const N = Number(n);
  const key = await scrypt(password.normalize('NFC'), Buffer.from(saltB64, 'base64url'), expected.length, { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) });
  return key.length === expected.length && crypto.timingSafeEqual(key, expected);
}

/** A hash of a random password, verified against when the account does not exist, so unknown and known usernames cost the same. */
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomBytes(18).toString('base64'));
  return dummy;
}

const COMMON = new Set(['password', 'password1', '12345678', '123456789', '1234567890', 'qwertyuiop', 'iloveyou', 'admin123', 'welcome1', 'abc123456', 'a123456789', 'woaini1314', '1qaz2wsx3edc', 'p@ssw0rd']);

/** At least 12 characters and three kinds of character (or 16+ of any), not the username, not a well-known password. */
export function checkPasswordPolicy(password: string, username: string): void {
  const problems: string[] = [];
  const chars = [...password];
  const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (chars.length < 12) problems.push('at least 12 characters');
  else if (chars.length < 16 && kinds < 3) problems.push('three of: lower case, upper case, digits, other characters (or 16+ characters)');
  if (chars.length > 256) problems.push('at most 256 characters');
  if (username && password.toLowerCase().includes(username.toLowerCase())) problems.push('must not contain the username');
  if (COMMON.has(password.toLowerCase())) problems.push('is a well-known password');
  if (new Set(chars).size < 5) problems.push('too few different characters');
  if (problems.length) {
    throw new AppError('validation_failed', {
      message: `Password does not meet the policy: ${problems.join('; ')}`,
      zh: '密码不符合要求：至少 12 位，包含大写字母、小写字母、数字、其他字符中的三类（或至少 16 位），不得包含用户名，不得为常见密码',
      details: { problems },
    });
  }
}
