import assert from 'node:assert/strict';
import { canonicalJson, entryLine, type AuditEntry } from '../../../src/services/audit/trail';

// The stored line is what is hashed: the direct writer must match the generic canonical form
// byte for byte, or every entry written by one would fail verification by the other.
describe('audit entryLine: the canonical JSON of an entry, written directly', () => {
  const base: AuditEntry = { seq: 1, at: '2026-12-01T13:00:00.000Z', actor: 'zhang.wei', role: 'archivist', ip: '10.0.0.7', action: 'item.read', object: { type: 'item', id: 'a1' }, outcome: 'success', details: {}, prev: '0'.repeat(64) };
  const cases: Array<[string, Partial<AuditEntry>]> = [
    ['plain', {}],
    ['nulls', { role: null, ip: null, object: null }],
    ['nested details with unsorted keys', { details: { z: 1, a: { y: [3, { b: 2, a: 1 }], x: null }, 备注: '测试' } }],
    ['quotes, backslashes, newlines and unicode', { actor: 'o"brien\\x', object: { type: 'user', id: 'line\nbreak' }, details: { q: '张伟 "养老" \u2028' } }],
    ['large seq', { seq: 123_456_789_012 }],
  ];
  for (const [name, over] of cases) {
    it(name, () => {
      const e = { ...base, ...over };
      assert.equal(entryLine(e), canonicalJson(e));
      assert.ok(!entryLine(e).includes('\n'), 'one entry, one line');
    });
  }
});
