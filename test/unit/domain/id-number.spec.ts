import assert from 'node:assert/strict';
import { containsIdNumber, convert15To18, extractIdNumbers, idCheckDigit, isValidIdNumber, maskIdNumber, maskIdNumbersInText, validateIdNumber } from '../../../src/domain/id-number';

// An independent derivation of ISO 7064 MOD 11-2 (weights 2^(17-i) mod 11, check = (12 - S) mod 11),
// so the tests do not trust the code under test to make their fixtures.
function check(first17: string): string {
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * (2 ** (17 - i) % 11);
  const c = (12 - (s % 11)) % 11;
  return c === 10 ? 'X' : String(c);
}
const make = (first17: string): string => first17 + check(first17);
// Finds a sequence number whose check character is the wanted one (to get an X case, or a 0 case).
function makeWithCheck(prefix14: string, want: string): string {
  for (let seq = 0; seq < 1000; seq++) {
    const first17 = prefix14 + String(seq).padStart(3, '0');
    if (check(first17) === want) return first17 + want;
  }
  throw new Error('unreachable');
}

const TODAY = { today: '2026-11-22' };

describe('公民身份号码 (GB 11643-1999)', () => {
  it('accepts the documented example 110105198703152318 (its check digit is 8)', () => {
    assert.equal(idCheckDigit('11010519870315231'), '8');
    const r = validateIdNumber('110105198703152318', TODAY);
    assert.ok(r.valid);
    assert.deepEqual([r.regionCode, r.birthDate, r.sex], ['110105', '1987-03-15', 'M']);
  });

  const withX = makeWithCheck('44030619900101', 'X');
  const withZero = makeWithCheck('32010219851231', '0');
  const female = make('51010719700228002');

  const valid: [name: string, id: string][] = [
    ['check digit X', withX],
    ['check digit x written lower-case', withX.toLowerCase()],
    ['check digit 0', withZero],
    ['female (even sequence digit)', female],
    ['born on a leap day', make('65010120000229001')],
    ['Hong Kong residence permit region 81', make('81000019900101001')],
  ];
  for (const [name, id] of valid) {
    it(`accepts ${name}: ${id}`, () => {
      assert.equal(isValidIdNumber(id, TODAY), true);
      assert.equal(idCheckDigit(id.slice(0, 17)), id[17]!.toUpperCase());
    });
  }
  it('reads sex from the 17th digit', () => {
    const r = validateIdNumber(female, TODAY);
    assert.ok(r.valid && r.sex === 'F');
  });

  const wrongCheck = (id: string) => id.slice(0, 17) + (id[17] === '0' ? '1' : '0');
  const invalid: [name: string, id: string, problem: string][] = [
    ['a wrong check digit', wrongCheck('110105198703152318'), 'checksum'],
    ['X where a digit is due', '11010519870315231X', 'checksum'],
    ['a digit where X is due', withX.slice(0, 17) + '1', 'checksum'],
    ['two adjacent digits swapped', '110105198703153218', 'checksum'],
    ['17 characters', '11010519870315231', 'format'],
    ['19 characters', '1101051987031523180', 'format'],
    ['a letter inside', '1101051987O3152318', 'format'],
    ['X not at the end', '11010519870X152318', 'format'],
    ['province code 00', make('00010519870315231'), 'region'],
    ['province code 99', make('99010519870315231'), 'region'],
    ['30 February', make('11010519870230231'), 'birth_date'],
    ['29 February in a common year', make('11010519870229231'), 'birth_date'],
    ['month 13', make('11010519871301231'), 'birth_date'],
    ['born in the future', make('11010520301231231'), 'birth_in_future'],
  ];
  for (const [name, id, problem] of invalid) {
    it(`rejects ${name}: ${id}`, () => {
      const r = validateIdNumber(id, TODAY);
      assert.equal(r.valid, false);
      assert.equal(!r.valid && r.problem, problem);
    });
  }

  it('detects every single-digit change of a valid number', () => {
    const id = '110105198703152318';
    for (let i = 0; i < 17; i++) {
      for (const d of '0123456789') {
        if (d === id[i]) continue;
        const changed = id.slice(0, i) + d + id.slice(i + 1);
        const r = validateIdNumber(changed, TODAY);
        assert.equal(r.valid, false, changed);
      }
    }
  });

  describe('15 → 18 conversion', () => {
    const table: [old: string][] = [['110105870315231'], ['440306900101002'], ['510107700228003']];
    for (const [old] of table) {
      it(`converts ${old}`, () => {
        const first17 = `${old.slice(0, 6)}19${old.slice(6)}`;
        assert.equal(convert15To18(old, TODAY), first17 + check(first17));
      });
    }
    it('gives the documented example', () => {
      assert.equal(convert15To18('110105870315231'), '110105198703152318');
    });
    it('refuses an impossible birth date or a wrong length', () => {
      assert.throws(() => convert15To18('110105870230231'), /birth date/);
      assert.throws(() => convert15To18('11010587031523'), RangeError);
      assert.throws(() => convert15To18('11010587031523X'), RangeError);
    });
  });

  describe('masking', () => {
    it('keeps the address code and the last four', () => {
      assert.equal(maskIdNumber('110105198703152318'), '110105********2318');
      assert.equal(maskIdNumber('110105870315231'), '110105*****5231');
      assert.equal(maskIdNumber('1234'), '****');
    });
  });

  describe('extraction from OCR text', () => {
    const ID = '110105198703152318';
    const cases: [name: string, text: string, value: string | null, repairs: number][] = [
      ['a clean number in a sentence', `参保人身份证号码：${ID}，联系电话`, ID, 0],
      ['O read for 0', '身份证号 11O105198703152318 ', ID, 1],
      ['D and Q read for 0', '证件号码1101D519870315231B', ID, 2],
      ['l and | read for 1', '号码: l10105198703|52318', ID, 2],
      ['S read for 5 and Z read for 2', '11010S19870315Z318', ID, 2],
      ['full-width digits', '１１０１０５１９８７０３１５２３１８', ID, 0],
      ['boxed digits with spaces', '1 1 0 1 0 5 1 9 8 7 0 3 1 5 2 3 1 8', ID, 0],
      ['× read for X', `身份证：${withX.slice(0, 17)}×`, withX, 1],
      ['乂 read for X', `${withX.slice(0, 17)}乂。`, withX, 1],
      ['lower-case x (normalised, not repaired)', withX.toLowerCase(), withX, 0],
      ['letters stuck in front', `ID${ID}`, ID, 0],
      ['a 15-digit old form', '旧证号110105870315231办理', ID, 0],
    ];
    for (const [name, text, value, repairs] of cases) {
      it(`finds ${name}`, () => {
        const found = extractIdNumbers(text, TODAY);
        assert.equal(found.length, 1, JSON.stringify(found));
        const [m] = found;
        assert.equal(m!.value, value);
        assert.equal(m!.repairs.length, repairs);
        assert.equal(text.slice(m!.start, m!.end), m!.raw);
        assert.ok(m!.confidence <= 1 && m!.confidence >= 0.5);
        if (repairs > 0) assert.ok(m!.confidence < 1);
      });
    }

    it('reports what it repaired, at the right offset', () => {
      const text = '号码11O105198703152318';
      const [m] = extractIdNumbers(text, TODAY);
      assert.deepEqual(m?.repairs, [{ offset: 4, from: 'O', to: '0' }]);
      assert.equal(text[4], 'O');
    });

    it('gives the 15-digit form a lower confidence and marks its form', () => {
      const [m] = extractIdNumbers('110105870315231', TODAY);
      assert.deepEqual([m?.form, m?.confidence], [15, 0.7]);
    });

    const none: [name: string, text: string][] = [
      ['a wrong check digit', `身份证号 ${wrongCheck(ID)}`],
      ['a repair that does not validate', '11O1051987031523l9'],
      ['a 19-digit bank account', '6222021987031523189'],
      ['an 18-digit run inside a longer number', `9${ID}`],
      ['a 15-digit form with a letter (nothing to check a repair against)', '11O105870315231'],
      ['a number with an impossible birth date', make('11010519870230231')],
      ['plain prose', '根据《社会保险法》第五十八条规定办理'],
      ['a run built mostly from letters', 'lIlIlIlIlIlIlIlIlI'],
    ];
    for (const [name, text] of none) {
      it(`finds nothing in ${name}`, () => {
        assert.deepEqual(extractIdNumbers(text, TODAY), []);
      });
    }

    it('finds several numbers and keeps their order', () => {
      const a = make('11010519870315231');
      const b = make('31011519650707412');
      const found = extractIdNumbers(`申请人${a}，配偶${b}。`, TODAY);
      assert.deepEqual(found.map((f) => f.value), [a, b]);
    });
  });
});

describe('maskIdNumbersInText', () => {
  it('masks 18- and 15-digit ID numbers inside text, keeping length and everything else', () => {
    const text = '申请人张伟，公民身份号码110105198703152318，旧证号110105870315231，单位代码91110108MA01ABCD2X。';
    const masked = maskIdNumbersInText(text);
    assert.equal(masked, '申请人张伟，公民身份号码110105********2318，旧证号110105*****5231，单位代码91110108MA01ABCD2X。');
    assert.equal(masked.length, text.length);
    assert.equal(containsIdNumber(text), true);
    assert.equal(containsIdNumber(masked), false);
  });
  it('leaves numbers that are not shaped like an ID alone (amounts, 19-digit accounts, dates)', () => {
    for (const t of ['金额 1234567.89 元', '账号 6222021234567890123', '2016年4月12日', '文号 京人社工伤认字〔2019〕123号', '电话 13812345678', '2019 2020 2021 2022', '条目 65a1b2c3d4e5f60718293a4b']) assert.equal(maskIdNumbersInText(t), t);
  });
  it('masks an ID-length number even when its date is not a date (a misread digit is still somebody\'s number)', () => {
    assert.equal(maskIdNumbersInText('110105198713152318'), '110105********2318');
  });
});
