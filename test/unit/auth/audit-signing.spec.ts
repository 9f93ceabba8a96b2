import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import forge from 'node-forge';
import { certificateSerial } from '../../../src/services/audit/signing';

describe('audit signing certificate serial', () => {
  it('is positive and minimally encoded even when the random bytes start with zeros (OpenSSL parses the certificate)', () => {
    const keys = forge.pki.rsa.generateKeyPair({ bits: 512, e: 0x10001 });
    for (const first of ['\x00\x00', '\x00\x80', '\x80\x00', '\x0f\x00']) {
      const cert = forge.pki.createCertificate();
      cert.publicKey = keys.publicKey;
      cert.serialNumber = certificateSerial(first + '\x11'.repeat(13));
      cert.validity.notBefore = new Date();
      cert.validity.notAfter = new Date(Date.now() + 86_400_000);
      cert.setSubject([{ name: 'commonName', value: 't' }]);
      cert.setIssuer([{ name: 'commonName', value: 't' }]);
      cert.sign(keys.privateKey, forge.md.sha256.create());
      const parsed = new crypto.X509Certificate(forge.pki.certificateToPem(cert));
      assert.match(parsed.serialNumber, /^01/i);
    }
  });
});
