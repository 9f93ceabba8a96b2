import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CompactDictionary, exactLn, hmmRunCutter, loadJiebaSegmenter, Segmenter, type NativeJieba } from '../../../src/services/search/segmenter';
import { corrupt, generateItem, rng } from '../../helpers/si-corpus';

// The segmenter replaces @node-rs/jieba's dictionary (for memory) and must cut exactly as it does:
// words already in an index are found only if a query is cut the same way.
const req = createRequire(__filename);
const { Jieba } = req('@node-rs/jieba') as { Jieba: { withDict(d: Uint8Array): NativeJieba & { cutForSearch(t: string, hmm?: boolean): string[] } } };
const dictBytes = fs.readFileSync(path.join(path.dirname(req.resolve('@node-rs/jieba/dict')), 'dict.txt'));
const hmmCutter = hmmRunCutter(Jieba);

/** Both segmenters over the same dictionary text. */
function pair(dict: string): { native: ReturnType<typeof Jieba.withDict>; ours: Segmenter } {
  const bytes = Buffer.from(dict);
  return { native: Jieba.withDict(bytes), ours: new Segmenter(new CompactDictionary(bytes), hmmCutter) };
}

describe('word segmenter (jieba over a compact dictionary)', () => {
  it('takes logarithms as the C library does, where V8 is one unit in the last place off', () => {
    // ln 3 and ln 48: Math.log gives 1.0986122886681096 and 3.8712010109078907.
    assert.equal(exactLn(3), 1.0986122886681098);
    assert.equal(exactLn(48), 3.871201010907891);
    assert.equal(exactLn(1), 0);
    assert.equal(exactLn(2), Math.LN2);
    assert.equal(exactLn(60101964), 17.911553077840047, "the dictionary's total");
    for (let n = 2; n < 3000; n += 7) assert.ok(Math.abs(exactLn(n) - Math.log(n)) <= 4e-16 * Math.log(n), `ln ${n}`);
    assert.throws(() => exactLn(0), RangeError);
  });

  describe('against @node-rs/jieba with the full dictionary', () => {
    let native: ReturnType<typeof Jieba.withDict>;
    let ours: Segmenter;
    before(() => {
      native = Jieba.withDict(dictBytes);
      ours = loadJiebaSegmenter();
    });

    it('cuts social-insurance documents, clean and OCR-damaged, token for token', () => {
      const r = rng(11);
      let texts = 0;
      let differences = 0;
      for (let i = 0; i < 60; i++) {
        for (const page of generateItem(r, i).clean) {
          for (const t of [page, corrupt(page, 0.12, r)]) {
            texts++;
            if (JSON.stringify(native.cut(t, true)) !== JSON.stringify(ours.cut(t))) differences++;
            if (JSON.stringify(native.cutForSearch(t, true)) !== JSON.stringify(ours.cutForSearch(t))) differences++;
          }
        }
      }
      assert.ok(texts > 100);
      assert.equal(differences, 0);
    });

    it('cuts random mixtures (dictionary words, unknown and rare ideographs, ASCII, punctuation, line ends) token for token', () => {
      const words = dictBytes.toString('utf8').split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
      const r = rng(5);
      const pick = (a: ArrayLike<string>): string => a[Math.floor(r() * a.length)]!;
      let differences = 0;
      const firstDifference: string[] = [];
      for (let k = 0; k < 400; k++) {
        let t = '';
        for (let j = 5 + Math.floor(r() * 50); j > 0; j--) {
          const x = r();
          if (x < 0.55) t += pick(words);
          else if (x < 0.75) t += String.fromCodePoint(0x4e00 + Math.floor(r() * 0x51ff));
          else if (x < 0.8) t += pick('abcXYZ0123456789+#&._%-');
          else if (x < 0.86) t += pick(['，', '。', '（', '）', ' ', '\n', '\r\n', '\t', '\u3000', '〇', '《', '》']);
          else if (x < 0.88) t += String.fromCodePoint(0x20000 + Math.floor(r() * 0x500));
          else if (x < 0.9) t += String.fromCodePoint(0x3400 + Math.floor(r() * 0x100));
          else t += pick(words) + pick(words);
        }
        const a = JSON.stringify(native.cutForSearch(t, true));
        const b = JSON.stringify(ours.cutForSearch(t));
        if (a !== b || JSON.stringify(native.cut(t, true)) !== JSON.stringify(ours.cut(t))) {
          differences++;
          if (firstDifference.length === 0) firstDifference.push(t, a, b);
        }
      }
      assert.equal(differences, 0, firstDifference.join('\n'));
    });

    it('gives the search words the index is built from', () => {
      assert.deepEqual(ours.cutForSearch('参保人张三丰申请养老保险待遇'), ['参保', '人', '三丰', '张三丰', '申请', '养老', '保险', '养老保险', '待遇']);
      assert.deepEqual(ours.cut('abc网球拍卖会def！！？\r\n\t'), ['abc', '网球', '拍卖会', 'def', '！', '！', '？', '\r\n', '\t']);
    });
  });

  describe("jieba's dictionary rules, checked on small dictionaries against the native segmenter", () => {
    const cases: [string, string, string[]][] = [
      // a 10 · b 10 against ab 1 out of 100: equal probabilities mathematically; rounding decides.
      ['a tie between one word and two', '甲 10 n\n乙 10 n\n甲乙 1 n\n丙 79 n\n', ['甲乙丙', '丙甲乙甲乙丙']],
      ['a word given twice keeps its last frequency', '甲乙 1 n\n甲 50 n\n乙 50 n\n甲乙 1000 n\n', ['甲乙甲乙']],
      ['a missing frequency counts as 0', '甲乙\n甲 5 n\n乙 5 n\n', ['甲乙甲']],
      ['a run that is a word is split into characters, an unknown run goes to the HMM', '甲乙丙 1 n\n甲 100000 n\n乙 100000 n\n丙 100000 n\n', ['甲乙丙', '我们中出了一个叛徒甲乙丙']],
      ['a word starting with a character that is not a word', '乙丙 3 n\n丁 9 n\n', ['乙丙丁乙', '甲乙丙丁']],
    ];
    for (const [name, dict, texts] of cases) {
      it(name, () => {
        const { native, ours } = pair(dict);
        for (const t of texts) {
          assert.deepEqual(ours.cut(t), native.cut(t, true), t);
          assert.deepEqual(ours.cutForSearch(t), native.cutForSearch(t, true), t);
        }
      });
    }

    it('refuses a frequency that is not a number, as jieba does', () => {
      assert.throws(() => new CompactDictionary(Buffer.from('甲 x n\n')), /bad frequency/);
    });
  });
});
