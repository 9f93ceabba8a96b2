import assert from 'node:assert/strict';
import { createArchivalCodeFormat, dat22ArchivalCode, SI_TEMPLATE } from '../../../src/domain/archival-code';
import { AppError } from '../../../src/errors';

describe('档号 (DA/T 22-2015)', () => {
  const f = dat22ArchivalCode;

  it('formats the standard example', () => {
    assert.equal(f.format({ fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', org: 'BGS', piece: 1 }), 'Z109-WS·2011-Y-BGS-0001');
  });

  const roundTrip: [code: string, parts: Record<string, string>, piece: number, classKey: string][] = [
    ['Z109-WS·2011-Y-BGS-0001', { fonds: 'Z109', category: 'WS', year: '2011', period: 'Y', org: 'BGS' }, 1, 'Z109-WS·2011-Y-BGS'],
    ['0001-WS·2016-D30-RSK-0123', { fonds: '0001', category: 'WS', year: '2016', period: 'D30', org: 'RSK' }, 123, '0001-WS·2016-D30-RSK'],
    ['S001-SB·2020-D100-GS-9999', { fonds: 'S001', category: 'SB', year: '2020', period: 'D100', org: 'GS' }, 9999, 'S001-SB·2020-D100-GS'],
    ['S001-SB·2020-D50-01-0010', { fonds: 'S001', category: 'SB', year: '2020', period: 'D50', org: '01' }, 10, 'S001-SB·2020-D50-01'],
    ['S001-SB·2009-D10-YB-0007', { fonds: 'S001', category: 'SB', year: '2009', period: 'D10', org: 'YB' }, 7, 'S001-SB·2009-D10-YB'],
  ];
  for (const [code, parts, piece, classKey] of roundTrip) {
    it(`parses and re-forms ${code}`, () => {
      const p = f.parse(code);
      assert.ok(p);
      assert.deepEqual([p.parts, p.piece, p.classKey], [parts, piece, classKey]);
      assert.equal(f.format({ ...p.parts, piece: p.piece }), code);
      assert.equal(f.classKey(p.parts), classKey);
    });
  }

  it('reads common separator look-alikes and writes the standard ones', () => {
    const p = f.parse('Z109－WS・2011-Y-BGS-0001');
    assert.equal(p?.code, 'Z109-WS·2011-Y-BGS-0001');
    assert.equal(f.parse('Z109-WS.2011-Y-BGS-0001')?.code, 'Z109-WS·2011-Y-BGS-0001');
  });

  const invalid: [code: string, reason: RegExp][] = [
    ['Z109-WS·2011-D20-BGS-0001', /does not follow/], // no such period
    ['Z109-WS·2011-KJ-BGS-0001', /does not follow/], // KJ resolves to a period before numbering
    ['Z109-WS·2011-Y-BGS-1', /does not follow/], // 件号 not padded
    ['Z109-WS·2011-Y-BGS-0000', /件号 starts at 1/],
    ['Z109-WS-2011-Y-BGS-0001', /does not follow/], // "-" where "·" belongs
    ['Z10-WS·2011-Y-BGS-0001', /does not follow/], // 全宗号 too short
    ['Z109-WS·11-Y-BGS-0001', /does not follow/],
    ['Z109-ws·2011-Y-BGS-0001', /does not follow/],
    ['', /does not follow/],
  ];
  for (const [code, reason] of invalid) {
    it(`rejects ${JSON.stringify(code)}`, () => {
      const r = f.validate(code);
      assert.equal(r.valid, false);
      assert.match(!r.valid ? r.reason : '', reason);
      assert.equal(f.parse(code), null);
    });
  }

  const badInput: [name: string, input: Record<string, string | number>, message: RegExp][] = [
    ['an unknown period', { fonds: 'Z109', category: 'WS', year: 2011, period: 'D20', org: 'BGS', piece: 1 }, /period "D20"/],
    ['a missing field', { fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', piece: 1 }, /org is missing/],
    ['件号 0', { fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', org: 'BGS', piece: 0 }, /piece 0/],
    ['件号 beyond 4 digits', { fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', org: 'BGS', piece: 10000 }, /from 1 to 9999/],
    ['a fractional 件号', { fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', org: 'BGS', piece: 1.5 }, /piece 1.5/],
    ['a separator inside a field', { fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', org: 'B-S', piece: 1 }, /org "B-S"/],
  ];
  for (const [name, input, message] of badInput) {
    it(`refuses to format with ${name}`, () => {
      assert.throws(() => f.format(input), (e: unknown) => e instanceof AppError && e.code === 'validation_failed' && message.test(e.message));
    });
  }

  it('gives every 件号 of one class the same class key, and different classes different keys', () => {
    const base = { fonds: 'Z109', category: 'WS', year: 2011, period: 'Y', org: 'BGS' };
    const k1 = f.parse(f.format({ ...base, piece: 1 }))?.classKey;
    const k2 = f.parse(f.format({ ...base, piece: 2 }))?.classKey;
    assert.equal(k1, k2);
    assert.notEqual(f.classKey({ ...base, period: 'D30' }), f.classKey(base));
    assert.notEqual(f.classKey({ ...base, year: 2012 }), f.classKey(base));
  });

  describe('社保 layout (3号令 第八条: 年度—险种—业务环节)', () => {
    const si = createArchivalCodeFormat({
      template: SI_TEMPLATE,
      fields: { category: { pattern: 'SB' }, insurance: { pattern: '[A-Z]{2}', values: ['GL', 'ZJ', 'YL', 'YB', 'SY', 'GS', 'SH', 'TJ', 'JH'] } },
      pieceDigits: 5,
    });

    it('places 险种·业务环节 in the 机构(问题) level and round-trips', () => {
      const code = si.format({ fonds: 'S001', category: 'SB', year: 2019, period: 'D50', insurance: 'GS', stage: 'RD', piece: 42 });
      assert.equal(code, 'S001-SB·2019-D50-GS·RD-00042');
      const p = si.parse(code);
      assert.deepEqual(p?.parts, { fonds: 'S001', category: 'SB', year: '2019', period: 'D50', insurance: 'GS', stage: 'RD' });
      assert.equal(p?.classKey, 'S001-SB·2019-D50-GS·RD');
      assert.deepEqual(si.fields, ['fonds', 'category', 'year', 'period', 'insurance', 'stage', 'piece']);
    });

    it('enforces the configured 险种 codes', () => {
      assert.equal(si.validate('S001-SB·2019-D50-XX·RD-00042').valid, false);
      assert.throws(() => si.format({ fonds: 'S001', category: 'SB', year: 2019, period: 'D50', insurance: 'XX', stage: 'RD', piece: 1 }), /insurance "XX" is not one of/);
    });
  });

  describe('template configuration', () => {
    const bad: [name: string, template: string, message: RegExp][] = [
      ['no 件号', '{fonds}-{year}-{period}', /no \{piece\}/],
      ['no period', '{fonds}-{year}-{org}-{piece}', /no \{period\}/],
      ['two fields without a separator', '{fonds}{year}-{period}-{piece}', /must be followed by a separator/],
      ['a field without a pattern', '{fonds}-{year}-{period}-{room}-{piece}', /no pattern for \{room\}/],
      ['a repeated field', '{fonds}-{year}-{period}-{fonds}-{piece}', /appears twice/],
    ];
    for (const [name, template, message] of bad) {
      it(`rejects a template with ${name}`, () => {
        assert.throws(() => createArchivalCodeFormat({ template }), (e: unknown) => e instanceof AppError && e.code === 'config_invalid' && message.test(e.message));
      });
    }
    it('rejects a field pattern that swallows a separator', () => {
      assert.throws(() => createArchivalCodeFormat({ fields: { org: { pattern: '[A-Z-]+' } } }), /matches the separator "-"/);
    });
    it('puts the class key before a leading 件号 correctly', () => {
      const g = createArchivalCodeFormat({ template: '{piece}/{year}-{period}' });
      assert.equal(g.format({ piece: 3, year: 2011, period: 'Y' }), '0003/2011-Y');
      assert.equal(g.classKey({ year: 2011, period: 'Y' }), '2011-Y');
    });
    it('keeps "." meaningful in a template that uses it', () => {
      const g = createArchivalCodeFormat({ template: '{fonds}.{year}.{period}-{piece}' });
      assert.equal(g.parse('Z109.2011.Y-0001')?.code, 'Z109.2011.Y-0001');
      assert.equal(g.parse('Z109·2011·Y-0001'), null);
    });
  });
});
