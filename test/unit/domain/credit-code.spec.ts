import assert from 'node:assert/strict';
import { creditCodeCheckChar, extractCreditCodes, isValidCreditCode, validateCreditCode } from '../../../src/domain/credit-code';

// Independent derivation of the GB 32100 check: weights 3^(i-1) mod 31, check = (31 - S mod 31) mod 31.
const CS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
function check(first17: string): string {
  let s = 0;
  for (let i = 0; i < 17; i++) s += CS.indexOf(first17[i]!) * (3 ** i % 31);
  return CS[(31 - (s % 31)) % 31]!;
}
const make = (first17: string): string => first17 + check(first17);

describe('统一社会信用代码 (GB 32100-2015)', () => {
  const valid: [name: string, code: string][] = [
    ['the frequently published example 91350100M000100Y43', '91350100M000100Y43'],
    ['an enterprise (9-1) with letters in the body', make('91110105MA01ABCD1')],
    ['a 民政 social organisation (5-2)', make('52100000500018456')],
    ['a 机构编制 public institution (1-2) with check N', make('12100000400010275')],
    ['check character X', make('9111000071093123X')],
    ['check character 0', (() => { for (let i = 0; ; i++) { const c = make(`91440300MA5D${String(i).padStart(5, '0')}`); if (c.endsWith('0')) return c; } })()],
  ];
  for (const [name, code] of valid) {
    it(`accepts ${name}: ${code}`, () => {
      assert.equal(isValidCreditCode(code), true);
      assert.equal(creditCodeCheckChar(code.slice(0, 17)), code[17]);
    });
  }

  it('splits a code into its parts', () => {
    const r = validateCreditCode('91350100M000100Y43');
    assert.ok(r.valid);
    assert.deepEqual([r.authority, r.category, r.regionCode, r.orgCode], ['9', '1', '350100', 'M000100Y4']);
  });

  it('accepts lower case by upper-casing it', () => {
    assert.equal(validateCreditCode('91350100m000100y43').valid, true);
  });

  const invalid: [name: string, code: string, problem: string][] = [
    ['a wrong check character', '91350100M000100Y44', 'checksum'],
    ['I (not in the set)', '91350100M000100I43', 'format'],
    ['O (not in the set)', '91350100MO00100Y43', 'format'],
    ['17 characters', '91350100M000100Y4', 'format'],
    ['an unknown registration authority B', make('B1350100M000100Y4'), 'authority'],
    ['category 0', make('90350100M000100Y4'), 'authority'],
    ['a letter in the region code', make('9135A100M000100Y4'), 'region'],
  ];
  for (const [name, code, problem] of invalid) {
    it(`rejects ${name}: ${code}`, () => {
      const r = validateCreditCode(code);
      assert.equal(!r.valid && r.problem, problem);
    });
  }

  it('detects every single-character change', () => {
    const code = '91350100M000100Y43';
    for (let i = 8; i < 17; i++) {
      for (const c of CS) {
        if (c === code[i]) continue;
        assert.equal(isValidCreditCode(code.slice(0, i) + c + code.slice(i + 1)), false);
      }
    }
  });

  describe('extraction from OCR text', () => {
    const CODE = '91350100M000100Y43';
    const cases: [name: string, text: string, repairs: number][] = [
      ['a clean code after a label', `统一社会信用代码：${CODE}`, 0],
      ['O read for 0 (only 0 validates among 0/D/Q)', '代码 91350100M0O0100Y43 单位', 1],
      ['S read for 5', '913S0100M000100Y43', 1],
      ['lower-case letters', '91350100m000100y43', 0],
      ['full-width characters', '９１３５０１００Ｍ０００１００Ｙ４３', 0],
    ];
    for (const [name, text, repairs] of cases) {
      it(`finds ${name}`, () => {
        const found = extractCreditCodes(text);
        assert.equal(found.length, 1, JSON.stringify(found));
        assert.equal(found[0]!.value, CODE);
        assert.equal(found[0]!.repairs.length, repairs);
        assert.equal(text.slice(found[0]!.start, found[0]!.end), found[0]!.raw);
      });
    }

    it('repairs an in-set confusion only when nothing else validates, with lower confidence', () => {
      // 8 → B: B is a valid character, so this is an optional repair found on the second pass.
      const code = make('91110105MA01BBCD1');
      const misread = code.replace('BB', 'B8');
      assert.equal(isValidCreditCode(misread), false);
      const [m] = extractCreditCodes(`代码${misread}`);
      assert.equal(m?.value, code);
      assert.deepEqual(m?.repairs.map((r) => [r.from, r.to]), [['8', 'B']]);
      assert.ok(m!.confidence < 0.9);
    });

    it('returns nothing when two readings validate', () => {
      // Two O's, each possibly 0, D or Q: find positions and readings where two combinations both pass.
      const opts = ['0', 'D', 'Q'];
      let text: string | undefined;
      for (let p = 8; p < 17 && !text; p++) {
        for (let q = p + 1; q < 17 && !text; q++) {
          const at = (a: string, b: string) => {
            const body = [...'91350100111111111'];
            body[p] = a;
            body[q] = b;
            return make(body.join(''));
          };
          for (const [a, b] of opts.flatMap((x) => opts.map((y) => [x, y] as const))) {
            const code = at(a, b);
            const validReadings = opts.flatMap((x) => opts.map((y) => { const c = [...code]; c[p] = x; c[q] = y; return c.join(''); })).filter((c) => check(c.slice(0, 17)) === c[17]);
            if (validReadings.length > 1) {
              const t = [...code];
              t[p] = 'O';
              t[q] = 'O';
              text = t.join('');
              break;
            }
          }
        }
      }
      assert.ok(text, 'no ambiguous fixture found');
      assert.deepEqual(extractCreditCodes(text), []);
      // Resolving one of the two O's by hand leaves a single reading, which is then found.
      assert.ok(['0', 'D', 'Q'].some((x) => extractCreditCodes(text.replace('O', x)).length === 1));
    });

    const none: [name: string, text: string][] = [
      ['a wrong check character', '91350100M000100Y44'],
      ['a longer run', '91350100M000100Y431'],
      ['an English word run', 'ABCDEFGHJKLMNPQRTU'],
      ['prose', '参保单位名称：某某有限公司'],
    ];
    for (const [name, text] of none) {
      it(`finds nothing in ${name}`, () => assert.deepEqual(extractCreditCodes(text), []));
    }
  });
});
