/** The file-backed keystore: creation, reopening, rotation, retirement, wrong passphrase. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPrivateKey, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { createKeyring, openKeyring, type StorageError } from '../../../storage';

const FAST = { kdfIterations: 1000, bits: 2048 };

describe('storage: keyring', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keyring-')), 'keys');
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('creates a keystore on first run and reports where; key files are private and encrypted', async () => {
    const { keyring, created, dir: where } = await openKeyring({ dir, passphrase: 'pw', createIfMissing: true, ...FAST });
    assert.equal(created, true);
    assert.equal(where, path.resolve(dir));
    const file = path.join(dir, `${keyring.activeKekId}.pem`);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.match(fs.readFileSync(file, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
    const again = await openKeyring({ dir, passphrase: 'pw', createIfMissing: true });
    assert.equal(again.created, false);
    assert.equal(again.keyring.activeKekId, keyring.activeKekId);
  });

  it('a key file is standard PKCS#8 under PBES2: PBKDF2-HMAC-SHA-256 with the configured rounds and a 16-byte salt, AES-256-CBC', async () => {
    const { keyring } = await createKeyring({ dir, passphrase: '口令 pw', ...FAST });
    const pem = fs.readFileSync(path.join(dir, `${keyring.activeKekId}.pem`), 'utf8');
    const der = forge.pem.decode(pem)[0]!.body;
    // EncryptedPrivateKeyInfo → encryptionAlgorithm → PBES2-params (RFC 8018 A.4): [kdf, scheme].
    const algo = (forge.asn1.fromDer(der).value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
    const oid = (a: forge.asn1.Asn1) => forge.asn1.derToOid(a.value as string);
    assert.equal(oid(algo[0]!), forge.pki.oids.pkcs5PBES2);
    const [kdf, scheme] = algo[1]!.value as forge.asn1.Asn1[];
    const [kdfOid, kdfParams] = kdf!.value as forge.asn1.Asn1[];
    assert.equal(oid(kdfOid!), forge.pki.oids.pkcs5PBKDF2);
    const [salt, rounds, , prf] = kdfParams!.value as forge.asn1.Asn1[];
    assert.equal((salt!.value as string).length, 16);
    assert.equal(forge.asn1.derToInteger(rounds!.value as string), FAST.kdfIterations);
    assert.equal(oid((prf!.value as forge.asn1.Asn1[])[0]!), forge.pki.oids.hmacWithSHA256);
    assert.equal(oid((scheme!.value as forge.asn1.Asn1[])[0]!), forge.pki.oids['aes256-CBC']);
    // Opened by OpenSSL (node:crypto) with the passphrase, and only with it.
    assert.equal(createPrivateKey({ key: pem, format: 'pem', passphrase: '口令 pw' }).asymmetricKeyDetails?.modulusLength, FAST.bits);
    assert.throws(() => createPrivateKey({ key: pem, format: 'pem', passphrase: 'pw' }));
  });

  it('refuses to overwrite an existing keystore and to open a missing one', async () => {
    await createKeyring({ dir, passphrase: 'pw', ...FAST });
    await assert.rejects(createKeyring({ dir, passphrase: 'pw', ...FAST }), (e: StorageError) => e.code === 'invalid_argument');
    await assert.rejects(openKeyring({ dir: `${dir}-none`, passphrase: 'pw' }), (e: StorageError) => e.code === 'key_not_found');
  });

  it('a wrong passphrase is a clear error', async () => {
    await createKeyring({ dir, passphrase: 'right', ...FAST });
    await assert.rejects(openKeyring({ dir, passphrase: 'wrong' }), (e: StorageError) => e.code === 'invalid_argument' && /passphrase/.test(e.message));
  });

  it('wraps and unwraps under a context; rotation keeps old KEKs readable until removed', async () => {
    const { keyring } = await createKeyring({ dir, passphrase: 'pw', ...FAST });
    const dek = randomBytes(32);
    const w1 = keyring.wrap(dek, 'obj-a');
    assert.ok(keyring.unwrap(w1, 'obj-a').equals(dek));
    assert.throws(() => keyring.unwrap(w1, 'obj-b'), (e: StorageError) => e.code === 'integrity_error');

    const first = keyring.activeKekId;
    const second = await keyring.addKek({ activate: true });
    assert.equal(keyring.wrap(dek, 'x').kekId, second);
    const reopened = (await openKeyring({ dir, passphrase: 'pw' })).keyring;
    assert.deepEqual(reopened.kekIds(), [first, second]);
    assert.equal(reopened.activeKekId, second);
    assert.ok(reopened.unwrap(w1, 'obj-a').equals(dek));

    await assert.rejects(keyring.removeKek(second), (e: StorageError) => e.code === 'invalid_argument');
    await keyring.removeKek(first);
    const after = (await openKeyring({ dir, passphrase: 'pw' })).keyring;
    assert.deepEqual(after.kekIds(), [second]);
    assert.throws(() => after.unwrap(w1, 'obj-a'), (e: StorageError) => e.code === 'key_not_found');
    await assert.rejects(after.setActive(first), (e: StorageError) => e.code === 'key_not_found');
  });
});
