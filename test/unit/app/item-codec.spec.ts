import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { blindValue, deriveItemKeys, isSealed, openValue, sealValue } from '../../../src/models/item-codec';

describe('item codec: sealed fields and blind index keys', () => {
  const keys = deriveItemKeys(randomBytes(32));
  const id = '65a1b2c3d4e5f60718293a4b';
  const md = { persons: [{ name: '张伟', idNumber: '110105198703152318', evidence: [] }], title: '工伤认定决定书' };

  it('derives distinct seal and blind keys, stable for one root key', () => {
    const root = randomBytes(32);
    assert.ok(!deriveItemKeys(root).seal.equals(deriveItemKeys(root).blind));
    assert.ok(deriveItemKeys(root).blind.equals(deriveItemKeys(root).blind));
  });

  it('seals to ciphertext that names nothing and opens to the same value', () => {
    const s = sealValue(keys, id, 'metadata', md);
    assert.ok(isSealed(s));
    assert.ok(!String(s).includes('张伟') && !String(s).includes('110105'));
    assert.notEqual(s, sealValue(keys, id, 'metadata', md), 'a fresh nonce every time');
    assert.deepEqual(openValue(keys, id, 'metadata', s), md);
    assert.equal(sealValue(keys, id, 'metadata', s), s, 'sealing twice is a no-op');
    assert.equal(sealValue(keys, id, 'metadata', null), null);
    assert.deepEqual(openValue(keys, id, 'metadata', md), md, 'a value written before sealing reads as it is');
  });

  it('refuses a sealed value under another item, field or key, or altered', () => {
    const s = String(sealValue(keys, id, 'metadata', md));
    const code = (e: { code?: string }) => e.code === 'integrity_error';
    assert.throws(() => openValue(keys, '65a1b2c3d4e5f60718293a4c', 'metadata', s), code);
    assert.throws(() => openValue(keys, id, 'preregistered', s), code);
    assert.throws(() => openValue(deriveItemKeys(randomBytes(32)), id, 'metadata', s), code);
    const raw = Buffer.from(s.slice(3), 'base64');
    raw[20]! ^= 1;
    assert.throws(() => openValue(keys, id, 'metadata', `s1:${raw.toString('base64')}`), code);
  });

  it('blind keys: equal for the same number (any case of the check character), apart per field and key', () => {
    const a = blindValue(keys, 'personIds', '11010519870315231X');
    assert.match(a, /^h1:[A-Za-z0-9_-]{43}$/);
    assert.equal(blindValue(keys, 'personIds', '11010519870315231x'), a);
    assert.equal(blindValue(keys, 'personIds', a), a, 'a key is not hashed again');
    assert.notEqual(blindValue(keys, 'unitCodes', '11010519870315231X'), a);
    assert.notEqual(blindValue(deriveItemKeys(randomBytes(32)), 'personIds', '11010519870315231X'), a);
  });
});
