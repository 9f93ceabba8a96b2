/**
 * The system's audit signing key: an RSA key and a self-signed X.509 certificate in
 * <dataDir>/keys/audit-signing.{key,crt}.pem, made on first run. Checkpoints of the audit chain
 * are signed with it, so rewriting the chain (recomputing every hash) still shows at the last
 * checkpoint unless the key was taken too. The key is encrypted with the keystore passphrase
 * when one is configured, and written owner-only either way.
 *
 * node-forge makes the key and certificate (PKI); node:crypto signs and verifies, which is
 * far faster than forge's pure-JS RSA and reads the same PEM.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface AuditSigner {
  sign(data: string): string;
  verify(data: string, signature: string): boolean;
  /** SHA-256 of the certificate's DER, hex */
  fingerprint: string;
  certPem: string;
}

/** Where a signing key pair lives: `audit-signing` (the trail) or `agency-signing` (the agency's documents). */
export function signingPaths(dataDir: string, name = 'audit-signing'): { key: string; cert: string } {
  const dir = path.join(dataDir, 'keys');
  return { key: path.join(dir, `${name}.key.pem`), cert: path.join(dir, `${name}.crt.pem`) };
}

/**
 * The certificate's serial as hex: positive and minimally encoded. A first byte of 01 keeps the
 * DER integer from reading as negative and is never a padding byte; the former "0" + random hex
 * began 00 00… when the first random byte was 0, which OpenSSL rejects ("illegal padding").
 */
export function certificateSerial(randomBytes: string): string {
  return `01${forge.util.bytesToHex(randomBytes)}`;
}

function generate(commonName: string, passphrase: string | undefined): { keyPem: string; certPem: string } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 3072, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = certificateSerial(forge.random.getBytesSync(15));
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 30 * 365 * 24 * 3600 * 1000);
  const attrs = [
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'si-archive' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, nonRepudiation: true },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  const keyPem = passphrase
    ? forge.pki.encryptRsaPrivateKey(keys.privateKey, passphrase, { algorithm: 'aes256' })
    : forge.pki.privateKeyToPem(keys.privateKey);
  return { keyPem, certPem: forge.pki.certificateToPem(cert) };
}

function waitForFile(p: string, ms: number): void {
  const until = Date.now() + ms;
  while (!fs.existsSync(p)) {
    if (Date.now() > until) throw new Error(`${p} did not appear; another process may have died while creating the audit signing key`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
}

/** Loads the signing key, creating it if this is the first run. Safe when processes race. */
export function loadAuditSigner(dataDir: string, opts: { passphrase?: string; commonName?: string; name?: string } = {}): AuditSigner {
  const paths = signingPaths(dataDir, opts.name);
  fs.mkdirSync(path.dirname(paths.key), { recursive: true, mode: 0o700 });
  if (!fs.existsSync(paths.key)) {
    const { keyPem, certPem } = generate(opts.commonName ?? 'si-archive audit signing', opts.passphrase);
    const tmp = `${paths.key}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(`${tmp}.key`, keyPem, { mode: 0o600 });
    fs.writeFileSync(`${tmp}.crt`, certPem, { mode: 0o644 });
    try {
      // link() fails if the name exists: exactly one racing process installs its key.
      fs.linkSync(`${tmp}.key`, paths.key);
      fs.linkSync(`${tmp}.crt`, paths.cert);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      fs.rmSync(`${tmp}.key`, { force: true });
      fs.rmSync(`${tmp}.crt`, { force: true });
    }
  }
  waitForFile(paths.cert, 10_000);
  const keyPem = fs.readFileSync(paths.key, 'utf8');
  const certPem = fs.readFileSync(paths.cert, 'utf8');
  const privateKey = crypto.createPrivateKey({ key: keyPem, format: 'pem', ...(opts.passphrase ? { passphrase: opts.passphrase } : {}) });
  const x509 = new crypto.X509Certificate(certPem);
  const publicKey = x509.publicKey;
  if (!crypto.createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).equals(publicKey.export({ format: 'der', type: 'spki' }))) {
    throw new Error(`${paths.cert} does not belong to ${paths.key}`);
  }
  return {
    sign: (data) => crypto.sign('sha256', Buffer.from(data, 'utf8'), privateKey).toString('base64'),
    verify: (data, signature) => {
      try {
        return crypto.verify('sha256', Buffer.from(data, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
    fingerprint: crypto.createHash('sha256').update(x509.raw).digest('hex'),
    certPem,
  };
}
