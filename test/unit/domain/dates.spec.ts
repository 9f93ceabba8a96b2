import assert from 'node:assert/strict';
import { extractDates, parseDate, toCompactDate } from '../../../src/domain/dates';

describe('dates', () => {
  const ok: [input: string, value: string, precision: string, form: string, compact?: boolean][] = [
    ['2016年4月12日', '2016-04-12', 'day', 'cjk'],
    ['2016年04月12日', '2016-04-12', 'day', 'cjk'],
    ['2016 年 4 月 12 日', '2016-04-12', 'day', 'cjk'],
    ['２０１６年４月１２日', '2016-04-12', 'day', 'cjk'],
    ['2016年4月12号', '2016-04-12', 'day', 'cjk'],
    ['2016.04.12', '2016-04-12', 'day', 'dotted'],
    ['2016．04．12', '2016-04-12', 'day', 'dotted'],
    ['2016-4-12', '2016-04-12', 'day', 'dashed'],
    ['2016/04/12', '2016-04-12', 'day', 'slashed'],
    ['20160412', '2016-04-12', 'day', 'compact', true],
    ['二〇一六年四月十二日', '2016-04-12', 'day', 'cjk-numeral'],
    ['二零一六年四月十二日', '2016-04-12', 'day', 'cjk-numeral'],
    ['二○一六年四月十二日', '2016-04-12', 'day', 'cjk-numeral'], // ○ WHITE CIRCLE, common in typeset dates
    ['二〇〇九年七月二十三日', '2009-07-23', 'day', 'cjk-numeral'],
    ['二〇〇九年九月一日', '2009-09-01', 'day', 'cjk-numeral'],
    ['二〇一九年十二月三十一日', '2019-12-31', 'day', 'cjk-numeral'],
    ['二〇一九年十月十日', '2019-10-10', 'day', 'cjk-numeral'],
    ['二〇一九年十一月二十日', '2019-11-20', 'day', 'cjk-numeral'],
    ['二〇二〇年元月三日', '2020-01-03', 'day', 'cjk-numeral'],
    ['二〇一六年二月二十九日', '2016-02-29', 'day', 'cjk-numeral'],
    ['二〇一六年四月', '2016-04', 'month', 'cjk-numeral'],
    ['2016年4月', '2016-04', 'month', 'cjk'],
    ['2000年2月29日', '2000-02-29', 'day', 'cjk'], // divisible by 400: leap
  ];
  for (const [input, value, precision, form, compact] of ok) {
    it(`parses ${input} → ${value} (${precision})`, () => {
      const r = parseDate(input, { compact });
      assert.ok(r.ok, JSON.stringify(r));
      assert.deepEqual([r.value, r.precision, r.form], [value, precision, form]);
    });
  }

  const bad: [input: string, reason: string, compact?: boolean][] = [
    ['2016年2月30日', 'impossible_date'],
    ['2015年2月29日', 'impossible_date'],
    ['1900年2月29日', 'impossible_date'], // divisible by 100, not 400: not leap
    ['2016.13.01', 'impossible_date'],
    ['2016-04-31', 'impossible_date'],
    ['2016/00/10', 'impossible_date'],
    ['2016年4月0日', 'impossible_date'],
    ['二〇一六年二月三十日', 'impossible_date'],
    ['二〇一五年二月二十九日', 'impossible_date'],
    ['20160230', 'impossible_date', true],
    ['20160412', 'unrecognised'], // 8 bare digits only where the caller says it is a date column
    ['2016.04-12', 'unrecognised'], // mixed separators
    ['2016年4月12日前', 'unrecognised'],
    ['1850年1月1日', 'out_of_range'],
    ['四月十二日', 'unrecognised'],
  ];
  for (const [input, reason, compact] of bad) {
    it(`refuses ${input} (${reason})`, () => {
      const r = parseDate(input, { compact });
      assert.deepEqual(r, { ok: false, reason });
    });
  }

  describe('extraction', () => {
    it('finds dates of every form in order, with offsets into the original text', () => {
      const text = '申请日期：2016年4月12日；认定日期 二〇一六年五月三日，复核 2016.06.01，支付 ２０１６/０７/０２。';
      const found = extractDates(text);
      assert.deepEqual(found.map((d) => d.value), ['2016-04-12', '2016-05-03', '2016-06-01', '2016-07-02']);
      for (const d of found) assert.equal(text.slice(d.start, d.end), d.raw);
      assert.equal(found[3]?.raw, '２０１６/０７/０２');
    });

    it('flags a month-only date', () => {
      const [d] = extractDates('截至二〇一六年四月底');
      assert.deepEqual([d?.value, d?.precision, d?.day], ['2016-04', 'month', null]);
    });

    it('skips impossible dates and keeps the rest', () => {
      assert.deepEqual(extractDates('2016年2月30日至2016年3月1日').map((d) => d.value), ['2016-03-01']);
    });

    it('leaves 8-digit runs alone unless told the context is a date column', () => {
      const text = '文号20160412，身份证号110105198703152318';
      assert.deepEqual(extractDates(text), []);
      assert.deepEqual(extractDates(text, { compact: true }).map((d) => d.value), ['2016-04-12']);
    });

    it('does not read version numbers, amounts or ID numbers as dates', () => {
      assert.deepEqual(extractDates('版本 1.2016.04.12，金额 2016.04 元，编号 12016-04-12'), []);
      assert.deepEqual(extractDates('110105198703152318', { compact: true }), []);
    });
  });

  it('writes the DA/T 22 目录 date as 8 digits', () => {
    assert.equal(toCompactDate('2016-04-12'), '20160412');
    assert.throws(() => toCompactDate('2016-04'), RangeError);
  });
});
