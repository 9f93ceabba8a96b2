import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { maskIdNumbersInText } from '../../../src/domain/id-number';
import { RESET_ID_LENGTH, sha256 } from '../../../src/services/access/auth';
import { canonicalJson } from '../../../src/services/audit/trail';
import { checkPasswordPolicy, hashPassword, verifyPassword } from '../../../src/services/access/password';
import { base32Decode, base32Encode, hotp, totp, verifyTotp } from '../../../src/services/access/totp';

describe('credentials: TOTP (RFC 6238 vectors), scrypt hashes, password policy, canonical JSON', () => {
  const secret = base32Encode(Buffer.from('12345678901234567890'));

  it('base32 round-trips', () => {
    assert.equal(secret, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    assert.equal(base32Decode(secret).toString(), '12345678901234567890');
  });

  for (const [t, code] of [[59, '287082'], [1111111109, '081804'], [1111111111, '050471'], [1234567890, '005924'], [2000000000, '279037']] as const) {
    it(`TOTP at T=${t} is ${code} (RFC 6238 appendix B, last 6 digits)`, () => {
      assert.equal(totp(secret, t * 1000), code);
    });
  }

  it('HOTP matches RFC 4226 appendix D', () => {
    const key = Buffer.from('12345678901234567890');
    assert.deepEqual([0, 1, 2, 9].map((c) => hotp(key, c)), ['755224', '287082', '359152', '520489']);
  });

  it('verifyTotp accepts one step of drift and nothing else', () => {
    const now = 1_700_000_000_000;
    assert.ok(verifyTotp(secret, totp(secret, now - 30_000), now));
    assert.ok(verifyTotp(secret, totp(secret, now + 30_000), now));
    assert.ok(!verifyTotp(secret, totp(secret, now - 90_000), now));
    assert.ok(!verifyTotp(secret, '12345', now));
  });

  it('scrypt hashes verify, are salted, and carry their parameters', async () => {
    const a = await hashPassword('Correct-Horse-42');
    const b = await hashPassword('Correct-Horse-42');
    assert.notEqual(a, b);
    assert.match(a, /^scrypt\$32768\$8\$1\$/);
    assert.equal(await verifyPassword('Correct-Horse-42', a), true);
    assert.equal(await verifyPassword('correct-horse-42', a), false);
    assert.equal(await verifyPassword('x', 'garbage'), false);
  });

  const policy: Array<[string, string, boolean]> = [
    ['short1A!', 'zhang', false],
    ['alllowercaseletters', 'zhang', true],
    ['lowercaseonly', 'zhang', false],
    ['Abcdefgh1234', 'zhang', true],
    ['Zhang.Wei-2024x', 'zhang.wei', false],
    ['Password1234', 'li', true],
    ['aaaaaaaaaaaaaaaaaa', 'li', false],
    ['社保档案系统的一个很长的口令啊啊', 'li', true],
  ];
  for (const [pw, user, ok] of policy) {
    it(`password policy: "${pw}" for ${user} is ${ok ? 'accepted' : 'refused'}`, () => {
      if (ok) assert.doesNotThrow(() => checkPasswordPolicy(pw, user));
      else assert.throws(() => checkPasswordPolicy(pw, user), /policy/);
    });
  }

  it('canonical JSON sorts keys at every level and drops undefined', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined, x: null }], c: '档' } }), '{"a":{"c":"档","d":[2,{"x":null,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ t: new Date(0) }), '{"t":"1970-01-01T00:00:00.000Z"}');
  });
});

describe('credentials: what an answer hands back survives the ID-number masking of answers', () => {
  it('a reset id is never starred (a 16-character id was, about once in 120, and could not be approved)', () => {
    // 13 digits between hex letters: a cut-off ID number to the masking at 16 characters.
    const looksNumeric = `ab1101051949123${'c'.repeat(RESET_ID_LENGTH - 15)}`;
    assert.equal(maskIdNumbersInText(looksNumeric), looksNumeric);
    assert.notEqual(maskIdNumbersInText(looksNumeric.slice(0, 16)), looksNumeric.slice(0, 16), 'the masking does star the short form');
    let starred = 0;
    for (let i = 0; i < 5000; i++) {
      const id = sha256(crypto.randomBytes(18).toString('base64url')).slice(0, RESET_ID_LENGTH);
      if (maskIdNumbersInText(id) !== id) starred++;
    }
    assert.equal(starred, 0);
  });
});
