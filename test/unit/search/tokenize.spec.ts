import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseQuery } from '../../../src/services/search/query';
import { buildSegment, decodeSegment, encodeSegment, forEachPosting } from '../../../src/services/search/segment';
import { makeSnippet, markSnippet } from '../../../src/services/search/snippet';
import { codeTokens, normalizeChars, pairKey, splitWords, TokenHasher, tokenizePage } from '../../../src/services/search/tokenize';

describe('search tokenizer', () => {
  it('normalises full-width forms one code point for one, so positions line up', () => {
    const text = 'ＡＢ１２３４号码：ｘ';
    const n = normalizeChars(text);
    assert.equal(n.length, [...text].length);
    assert.equal(n.join(''), 'AB1234号码:X');
  });

  it('makes bigrams with positions, skip-bigrams and jieba words from Chinese text', () => {
    const t = tokenizePage('参保人张三丰申请养老保险待遇');
    assert.deepEqual(t.bigrams.get(pairKey('张', '三')), [3]);
    assert.deepEqual(t.bigrams.get(pairKey('三', '丰')), [4]);
    assert.equal(t.skips.get(pairKey('张', '丰')), 1, 'a misread middle character still shares a token');
    assert.ok(t.words.has('w:养老保险'));
    assert.ok(t.words.has('w:养老'), 'the search cut adds the parts of long words');
    assert.equal(t.length, [...'参保人张三丰申请养老保险待遇'].length - 1);
  });

  it('keeps ID numbers, 档号 and digits as exact code tokens', () => {
    const t = tokenizePage('公民身份号码：33010619880214331x，档号 Z101-WS·2020-Y-YL·DY-0012');
    assert.ok(t.words.has('x:33010619880214331X'), 'x is upper-cased');
    assert.ok(t.words.has('x:Z101-WS·2020-Y-YL·DY-0012'));
    assert.ok(t.words.has('x:2020') && t.words.has('x:0012'), 'parts of a code are found alone');
    assert.deepEqual(codeTokens('12345'), ['x:12345']);
  });

  it('hashes tokens under the key: same key same hash, another key another', () => {
    const k = randomBytes(32);
    const a = new TokenHasher(k);
    const b = new TokenHasher(k);
    const c = new TokenHasher(randomBytes(32));
    assert.equal(a.hash('b:养老'), b.hash('b:养老'));
    assert.notEqual(a.hash('b:养老'), c.hash('b:养老'));
    assert.ok(Number.isSafeInteger(a.hash('b:养老')));
    assert.equal(a.hashPair('b', pairKey('养', '老')), a.hash('b:养老'));
    assert.equal(a.hashPair('s', pairKey('养', '老')), a.hash('s:养老'));
    assert.notEqual(a.blind('pid', '330106198802143318'), a.blind('name', '330106198802143318'));
  });

  it('cuts query words with single characters glued to a neighbour', () => {
    for (const w of splitWords('退休人员的养老金待遇')) assert.ok([...w].length >= 2, w);
  });
});

describe('search query parser', () => {
  it('reads words, quoted phrases (ASCII and Chinese quotes), exclusions and codes', () => {
    const c = parseQuery('欧阳振宇 “养老保险待遇” -工伤 330106198802143318');
    assert.deepEqual(
      c.map((x) => [x.kind, x.text, x.exact, x.negate]),
      [
        ['cjk', '欧阳振宇', false, false],
        ['cjk', '养老保险待遇', true, false],
        ['cjk', '工伤', true, true],
        ['code', '330106198802143318', true, false],
      ],
    );
  });

  it('splits a long unquoted run into words of one group, and mixed runs into code and CJK', () => {
    const c = parseQuery('城镇职工基本养老保险 2020年度');
    assert.ok(c.filter((x) => x.group === 1).length >= 2);
    assert.deepEqual(c.filter((x) => x.group === 2).map((x) => x.text), ['2020', '年度']);
  });
});

describe('search segment codec', () => {
  it('round-trips postings with positions through the deflated encoding', () => {
    const h = new TokenHasher(randomBytes(32));
    const pages = ['养老保险待遇核定 养老保险', '失业保险金申领', '养老金'].map((t, i) => ({ item: i % 2, page: i + 1, tokens: tokenizePage(t) }));
    const seg = decodeSegment(encodeSegment(buildSegment([{ id: 'a' }, { id: 'b' }] as never, pages, h)));
    const got: Array<[number, number, number[] | null]> = [];
    forEachPosting(seg, h.hash('b:养老'), (d, tf, p) => got.push([d, tf, p]));
    assert.deepEqual(got, [
      [0, 2, [0, 9]],
      [2, 1, [0]],
    ]);
    assert.deepEqual([...seg.docPage], [1, 2, 3]);
    assert.deepEqual([...seg.docItem], [0, 1, 0]);
  });
});

describe('search snippets', () => {
  it('highlights exact occurrences, and a one-character OCR miss when nothing is exact', () => {
    const clauses = parseQuery('欧阳振宇');
    const s = makeSnippet('第一行\n申请人欧阳振宇申请待遇', 2, clauses);
    assert.equal(markSnippet(s), '第一行 申请人【欧阳振宇】申请待遇');
    const f = makeSnippet('申请人欧阳掁宇申请待遇', 1, clauses);
    assert.equal(markSnippet(f), '申请人【欧阳掁宇】申请待遇');
  });
  it('starts and ends at a word or field boundary when one is near, not in the middle of a word', () => {
    // An item's description (page 0): fields apart by spaces. The window before the hit fell inside
    // 工伤认定决定书 and showed "定书 …".
    const md = '工伤认定决定书 工伤认定决定书 工伤保险待遇类 工伤保险 欧阳振华 110105198703152318 2019-05-20 Z001-SB·2019-D50-GS·DY02-0001 Z001';
    const s = makeSnippet(md, 0, parseQuery('欧阳振华'));
    assert.ok(md.startsWith(s.text) || md.includes(` ${s.text}`), `begins at a field: "${s.text}"`);
    assert.match(markSnippet(s), /【欧阳振华】/);
    // No boundary near: the window stays where it was.
    const long = `${'甲'.repeat(60)}欧阳振华${'乙'.repeat(60)}`;
    const plain = makeSnippet(long, 1, parseQuery('欧阳振华'));
    assert.equal([...plain.text].length, 90, 'the usual width');
    assert.match(markSnippet(plain), /^甲+【欧阳振华】乙+$/);
  });
});
