import assert from 'node:assert/strict';
import { rereadsRepeat } from '../../../src/services/capture/capture';

// A date or 公民身份号码 line is read again several ways (engine.rereadLine) until the readings
// agree on a value or cannot any more; two ways that read the very same text stop it early.
describe('capture: rereads that only repeat themselves', () => {
  const r = (...texts: string[]) => texts.map((text) => ({ text }));

  it('two rereads reading the same text repeat (whitespace aside)', () => {
    assert.equal(rereadsRepeat(r('公民身份号码 11010519491231002', '公民身份号码11010519491231002')), true);
  });

  it('one reread alone is not yet a repeat', () => {
    assert.equal(rereadsRepeat(r('二〇二三年二月九日')), false);
    assert.equal(rereadsRepeat([]), false);
  });

  it('two rereads that differ, even by one character, do not repeat', () => {
    assert.equal(rereadsRepeat(r('二〇二三年二月九日', '二O二三年二月九日')), false);
  });

  it('only the first two rereads decide: once they differ, later ones reading alike do not stop the line', () => {
    assert.equal(rereadsRepeat(r('二〇二三年二月九日', '二O二三年二月九日', '二O二三年二月九日')), false);
  });
});
