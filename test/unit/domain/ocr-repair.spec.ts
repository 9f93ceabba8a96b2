import assert from 'node:assert/strict';
import { candidateSequences, repairByCheck, type Alternatives } from '../../../src/domain/ocr-repair';

// A toy identifier: four digits whose sum is divisible by 7.
const valid = (s: string) => /^\d{4}$/.test(s) && [...s].reduce((a, c) => a + Number(c), 0) % 7 === 0;
const chars = (s: string) => [...s].map((ch, offset) => ({ ch, offset }));
const table: Record<string, string[]> = { O: ['0'], B: ['8', '3'], '?': ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] };
const alts = (_: number, ch: string): Alternatives => (/\d/.test(ch) ? { keep: true, options: ch === '8' ? ['3'] : [] } : { keep: false, options: table[ch] ?? [] });

describe('check-guided repair', () => {
  it('keeps a valid reading untouched', () => {
    assert.deepEqual(repairByCheck(chars('1213'), alts, valid), { kind: 'valid', value: '1213', repairs: [], optionalRepairs: 0 });
  });
  it('repairs a character that cannot stand, when the check then passes', () => {
    const r = repairByCheck(chars('12O4'), alts, valid);
    assert.deepEqual(r, { kind: 'valid', value: '1204', repairs: [{ offset: 2, from: 'O', to: '0' }], optionalRepairs: 0 });
  });
  it('picks the one option of several that validates', () => {
    const r = repairByCheck(chars('1B03'), alts, valid); // 1+8+0+3 = 12, 1+3+0+3 = 7
    assert.equal(r.kind === 'valid' && r.value, '1303');
  });
  it('refuses when two readings validate', () => {
    const r = repairByCheck(chars('??00'), alts, valid); // 1+6, 2+5, … all sum to 7
    assert.equal(r.kind, 'ambiguous');
    assert.ok(r.kind === 'ambiguous' && r.values.length > 1);
  });
  it('fails when no reading validates, or a character has no reading', () => {
    assert.equal(repairByCheck(chars('12O5'), alts, valid).kind, 'invalid');
    assert.equal(repairByCheck(chars('12#4'), alts, valid).kind, 'invalid');
  });
  it('changes a valid-looking character only on the optional pass', () => {
    assert.equal(repairByCheck(chars('8301'), alts, valid, 0).kind, 'invalid');
    const r = repairByCheck(chars('8301'), alts, valid, 1); // 3+3+0+1 = 7
    assert.deepEqual(r.kind === 'valid' && [r.value, r.optionalRepairs], ['3301', 1]);
  });
});

describe('candidate runs', () => {
  const isDigit = (c: string) => /\d/.test(c);
  it('joins boxed digits separated by single spaces when the total is a plausible length', () => {
    const runs = candidateSequences('号码 1 1 0 1 0 5 1 9 8 7 0 3 1 5 2 3 1 8 止', isDigit);
    assert.deepEqual(runs.map((r) => r.map((c) => c.ch).join('')), ['110105198703152318']);
  });
  it('splits on spaces otherwise', () => {
    const runs = candidateSequences('2018 123', isDigit);
    assert.deepEqual(runs.map((r) => r.map((c) => c.ch).join('')), ['2018', '123']);
  });
});
