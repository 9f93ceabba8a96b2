/**
 * Key-encryption keys (KEKs): the keys that wrap each object's data key.
 *
 * Choice: every KEK is an RSA-3072 key pair and wraps with RSA-OAEP (SHA-256, MGF1-SHA-256),
 * rather than an AES key wrapped with AES-KW.
 *  - The keystore is plain standard files: one PKCS#8 EncryptedPrivateKeyInfo PEM per KEK
 *    (PBES2: PBKDF2-HMAC-SHA-256 + AES-256-CBC), laid out with node-forge's ASN.1 writer, the key
 *    derived and encrypted by node:crypto (forge's own PBKDF2 runs in JavaScript: 200 000
 *    iterations took seconds on every new keystore, about 20x node's). openssl, HSM import tools
 *    and key-escrow procedures read them as they are; a symmetric key has no equally common file
 *    format, and node-forge writes none.
 *  - Wrapping needs only the public half, so an ingest-only deployment could hold no private key.
 *  - The OAEP label carries the object key and DEK id, so a wrapped key copied onto another
 *    object does not unwrap.
 * Each wrap/unwrap runs in node:crypto (OpenSSL), about 2 ms, against about 100 ms in node-forge's
 * JavaScript RSA, which would sit on every read. For the same reason the PEM files are opened with
 * node:crypto: it reads exactly the PKCS#8 that forge wrote, 25x faster than forge's PBKDF2.
 *
 * Layout of the keystore folder (0700; key files 0600):
 *   keyring.json       {format, version, active, keks: [{id, createdAt}]}: no secrets
 *   <kek id>.pem       the encrypted private key
 * A KEK whose file has been removed is retired: objects still wrapped by it fail with key_not_found.
 */
import fs from 'node:fs';
import path from 'node:path';
import { constants, createCipheriv, createPrivateKey, createPublicKey, pbkdf2Sync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { StorageError } from './errors';

const KEYRING_FILE = 'keyring.json';
const FORMAT = 'si-archive-keyring';
const DEFAULT_BITS = 3072;
const DEFAULT_KDF_ITERATIONS = 200_000;

export interface WrappedKey {
  kekId: string;
  /** Algorithm name recorded with the wrapped key, so a later format can coexist. */
  alg: 'RSA-OAEP-256';
  wrapped: Buffer;
}

export interface Keyring {
  /** The KEK that new writes use. */
  readonly activeKekId: string;
  /** Every KEK loaded (active and older ones kept for reading). */
  kekIds(): string[];
  has(kekId: string): boolean;
  /** Generates a KEK, saves it (when file-backed) and returns its id; `activate` makes new writes use it. */
  addKek(opts?: { activate?: boolean }): Promise<string>;
  setActive(kekId: string): Promise<void>;
  /** Deletes a KEK's key file. Objects still wrapped by it become unreadable: rewrap first. */
  removeKek(kekId: string): Promise<void>;
  /** `context` binds the wrapped key to one object (OAEP label). */
  wrap(dek: Buffer, context: string, kekId?: string): WrappedKey;
  unwrap(w: WrappedKey, context: string): Buffer;
  /** Folder of the keystore, or null for an in-memory keyring. */
  readonly dir: string | null;
}

export interface KeyringOptions {
  dir: string;
  passphrase: string;
  /** PBKDF2 iterations for newly written key files (default 200 000). */
  kdfIterations?: number;
  /** RSA modulus size for new KEKs (default 3072). */
  bits?: number;
}

interface KeyringFile {
  format: typeof FORMAT;
  version: 1;
  active: string;
  keks: { id: string; createdAt: string }[];
}

interface Kek {
  id: string;
  priv: KeyObject;
  pub: KeyObject;
}

function newKekId(): string {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  return `kek-${day}-${randomBytes(4).toString('hex')}`;
}

const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

function generate(bits: number): forge.pki.rsa.KeyPair {
  // forge hands generation to node:crypto's native generator when it is available.
  return forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
}

/**
 * The private key as a PKCS#8 EncryptedPrivateKeyInfo PEM (RFC 5958 §3) under PBES2 (RFC 8018
 * §6.2, A.2-A.4): PBKDF2 with HMAC-SHA-256, `iterations` rounds and a 16-byte salt, then
 * AES-256-CBC. node:crypto cannot choose the iteration count of the PEM it writes (OpenSSL's
 * default, 2048), so the structure is written here.
 */
function encryptPrivateKeyPem(privateKey: forge.pki.rsa.PrivateKey, passphrase: string, iterations: number): string {
  const { asn1 } = forge;
  const U = asn1.Class.UNIVERSAL;
  const oid = (o: string) => asn1.create(U, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
  const octets = (b: Buffer) => asn1.create(U, asn1.Type.OCTETSTRING, false, b.toString('binary'));
  const int = (n: number) => asn1.create(U, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
  const seq = (...items: forge.asn1.Asn1[]) => asn1.create(U, asn1.Type.SEQUENCE, true, items);
  const pkcs8 = Buffer.from(asn1.toDer(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(privateKey))).getBytes(), 'binary');
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(passphrase, salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  const info = seq(
    seq(
      oid(forge.pki.oids.pkcs5PBES2!),
      seq(
        seq(oid(forge.pki.oids.pkcs5PBKDF2!), seq(octets(salt), int(iterations), int(32), seq(oid(forge.pki.oids.hmacWithSHA256!), asn1.create(U, asn1.Type.NULL, false, '')))),
        seq(oid(forge.pki.oids['aes256-CBC']!), octets(iv)),
      ),
    ),
    octets(encrypted),
  );
  const b64 = Buffer.from(asn1.toDer(info).getBytes(), 'binary').toString('base64');
  return `-----BEGIN ENCRYPTED PRIVATE KEY-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ENCRYPTED PRIVATE KEY-----\n`;
}

function toKek(id: string, priv: KeyObject): Kek {
  return { id, priv, pub: createPublicKey(priv) };
}

function writeFileAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
  fs.renameSync(tmp, file);
}

class KeyringImpl implements Keyring {
  private keks = new Map<string, Kek>();
  private order: { id: string; createdAt: string }[] = [];
  private active = '';

  constructor(
    readonly dir: string | null,
    private readonly passphrase: string,
    private readonly kdfIterations: number,
    private readonly bits: number,
  ) {}

  get activeKekId(): string {
    return this.active;
  }

  kekIds(): string[] {
    return this.order.map((k) => k.id).filter((id) => this.keks.has(id));
  }

  has(kekId: string): boolean {
    return this.keks.has(kekId);
  }

  load(): void {
    const dir = this.dir!;
    let meta: KeyringFile;
    try {
      meta = JSON.parse(fs.readFileSync(path.join(dir, KEYRING_FILE), 'utf8')) as KeyringFile;
    } catch (err) {
      throw new StorageError('invalid_argument', `cannot read keystore ${path.join(dir, KEYRING_FILE)}: ${(err as Error).message}`, { cause: err });
    }
    if (meta.format !== FORMAT || meta.version !== 1) throw new StorageError('invalid_argument', `${dir}: not a version 1 archive keystore`);
    for (const entry of meta.keks) {
      const file = path.join(dir, `${entry.id}.pem`);
      if (!fs.existsSync(file)) continue; // retired
      let priv: KeyObject;
      try {
        priv = createPrivateKey({ key: fs.readFileSync(file, 'utf8'), format: 'pem', passphrase: this.passphrase });
      } catch (err) {
        throw new StorageError('invalid_argument', `cannot open ${file}: wrong keystore passphrase or damaged key file`, { cause: err });
      }
      this.keks.set(entry.id, toKek(entry.id, priv));
    }
    this.order = meta.keks;
    this.active = meta.active;
    if (!this.keks.has(this.active)) throw new StorageError('key_not_found', `${dir}: the active KEK ${this.active} has no key file`, { details: { kekId: this.active } });
  }

  private save(): void {
    if (!this.dir) return;
    const meta: KeyringFile = { format: FORMAT, version: 1, active: this.active, keks: this.order };
    writeFileAtomic(path.join(this.dir, KEYRING_FILE), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
  }

  async addKek(opts: { activate?: boolean } = {}): Promise<string> {
    const id = newKekId();
    const pair = generate(this.bits);
    let priv: KeyObject;
    if (this.dir) {
      const pem = encryptPrivateKeyPem(pair.privateKey, this.passphrase, this.kdfIterations);
      writeFileAtomic(path.join(this.dir, `${id}.pem`), pem, 0o600);
      priv = createPrivateKey({ key: pem, format: 'pem', passphrase: this.passphrase });
    } else {
      priv = createPrivateKey(forge.pki.privateKeyToPem(pair.privateKey));
    }
    this.keks.set(id, toKek(id, priv));
    this.order.push({ id, createdAt: new Date().toISOString() });
    if (opts.activate || !this.active) this.active = id;
    this.save();
    return id;
  }

  async setActive(kekId: string): Promise<void> {
    if (!this.keks.has(kekId)) throw new StorageError('key_not_found', `no KEK ${kekId} in the keystore`, { details: { kekId } });
    this.active = kekId;
    this.save();
  }

  async removeKek(kekId: string): Promise<void> {
    if (kekId === this.active) throw new StorageError('invalid_argument', `${kekId} is the active KEK; activate another one first`);
    if (!this.keks.has(kekId)) throw new StorageError('key_not_found', `no KEK ${kekId} in the keystore`, { details: { kekId } });
    this.keks.delete(kekId);
    if (this.dir) fs.rmSync(path.join(this.dir, `${kekId}.pem`), { force: true });
  }

  wrap(dek: Buffer, context: string, kekId = this.active): WrappedKey {
    const kek = this.keks.get(kekId);
    if (!kek) throw new StorageError('key_not_found', `no KEK ${kekId} in the keystore`, { details: { kekId } });
    return { kekId, alg: 'RSA-OAEP-256', wrapped: publicEncrypt({ key: kek.pub, ...OAEP, oaepLabel: Buffer.from(context, 'utf8') }, dek) };
  }

  unwrap(w: WrappedKey, context: string): Buffer {
    const kek = this.keks.get(w.kekId);
    if (!kek) {
      throw new StorageError('key_not_found', `the key-encryption key ${w.kekId} is not in this keystore`, { details: { kekId: w.kekId } });
    }
    if (w.alg !== 'RSA-OAEP-256') throw new StorageError('integrity_error', `unknown key wrapping ${String(w.alg)}`);
    try {
      const dek = privateDecrypt({ key: kek.priv, ...OAEP, oaepLabel: Buffer.from(context, 'utf8') }, w.wrapped);
      if (dek.length !== 32) throw new Error('unwrapped key has the wrong length');
      return dek;
    } catch (err) {
      throw new StorageError('integrity_error', `the wrapped data key does not unwrap under ${w.kekId} for this object`, { details: { kekId: w.kekId }, cause: err });
    }
  }
}

/**
 * Creates a keystore with one active KEK in `dir` (first run, embedded mode). Fails if one is
 * already there, so an existing keystore is never overwritten.
 */
export async function createKeyring(opts: KeyringOptions): Promise<{ keyring: Keyring; dir: string }> {
  const dir = path.resolve(opts.dir);
  if (fs.existsSync(path.join(dir, KEYRING_FILE))) throw new StorageError('invalid_argument', `a keystore already exists in ${dir}`);
  if (!opts.passphrase) throw new StorageError('invalid_argument', 'a keystore passphrase is required');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ring = new KeyringImpl(dir, opts.passphrase, opts.kdfIterations ?? DEFAULT_KDF_ITERATIONS, opts.bits ?? DEFAULT_BITS);
  await ring.addKek({ activate: true });
  return { keyring: ring, dir };
}

/**
 * Loads the keystore in `dir`. With `createIfMissing` an absent keystore is created and
 * `created` is true: the caller should tell the operator where it is and to back it up.
 */
export async function openKeyring(opts: KeyringOptions & { createIfMissing?: boolean }): Promise<{ keyring: Keyring; created: boolean; dir: string }> {
  const dir = path.resolve(opts.dir);
  if (!fs.existsSync(path.join(dir, KEYRING_FILE))) {
    if (!opts.createIfMissing) throw new StorageError('key_not_found', `no keystore in ${dir}`, { details: { dir } });
    const { keyring } = await createKeyring({ ...opts, dir });
    return { keyring, created: true, dir };
  }
  const ring = new KeyringImpl(dir, opts.passphrase, opts.kdfIterations ?? DEFAULT_KDF_ITERATIONS, opts.bits ?? DEFAULT_BITS);
  ring.load();
  return { keyring: ring, created: false, dir };
}

/** A keyring that lives only in memory, for tests and the in-memory store. */
export async function createMemoryKeyring(opts: { bits?: number } = {}): Promise<Keyring> {
  const ring = new KeyringImpl(null, '', 0, opts.bits ?? 2048);
  await ring.addKek({ activate: true });
  return ring;
}
