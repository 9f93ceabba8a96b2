/**
 * #13.2: ID-number masking works on what a reader can rebuild. A compliance officer (no
 * personal.full) reads an item whose page text holds one person's number in every form the
 * extractor reads, with extraction evidence quoting the raw OCR text, a title cut inside a
 * number, and search snippets whose fixed window would have started inside a number. Nowhere in
 * any answer may twelve or more of its digits stand together (after undoing full-width forms, OCR
 * confusions and spacing, as a reader would).
 */
import assert from 'node:assert/strict';
import { extractIdNumbers, idCheckDigit } from '../../src/domain/id-number';
import { indexItem } from '../../src/services/search';
import { api, fileItem, securityContext, type SecurityContext } from './helpers';

const first17 = '11010519870315231';
const ID = first17 + idCheckDigit(first17); // 110105198703152318
const OLD15 = '110105870315231'; // the same person's 15-digit number
const FULL_WIDTH = [...ID].map((d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)).join('');
const SPACED = [...ID].join(' ');
const CONFUSED = ID.replace(/0/g, 'O').replace(/1/, 'l');

// What a reader does: full-width to ASCII, OCR confusions to digits, spaces between digits dropped.
const CONFUSIONS: Record<string, string> = { O: '0', o: '0', D: '0', Q: '0', '〇': '0', l: '1', I: '1', '|': '1', Z: '2', S: '5', B: '8' };
function asReaderSees(text: string): string {
  const half = [...text].map((c) => (c.charCodeAt(0) >= 0xff01 && c.charCodeAt(0) <= 0xff5e ? String.fromCharCode(c.charCodeAt(0) - 0xfee0) : c)).join('');
  const digits = [...half].map((c) => CONFUSIONS[c] ?? c).join('');
  return digits.replace(/(?<=\d) (?=\d)/g, '');
}
function assertNoTwelveDigits(where: string, body: string): void {
  const seen = asReaderSees(body);
  for (const number of [ID, OLD15]) {
    for (let i = 0; i + 12 <= number.length; i++) {
      const piece = number.slice(i, i + 12);
      assert.ok(!seen.includes(piece), `${where}: 12 digits of ${number.slice(0, 4)}… (${piece}) readable in ${body.slice(Math.max(0, body.indexOf(piece) - 40), body.indexOf(piece) + 60)}`);
    }
  }
}

describe('#13.2 ID-number masking covers every form a reader can rebuild', function () {
  this.timeout(120_000);
  let c: SecurityContext;
  let itemId: string;
  const forms = { plain: ID, spaced: SPACED, fullWidth: FULL_WIDTH, confused: CONFUSED, old15: OLD15 };
  // A window cut at a fixed offset would have started inside the number: the hit sits 30
  // characters after the number's start, the window begins 24 before the hit.
  const page1 = `公民身份号码${ID}参保人员基本养老保险待遇核定表 待遇核定`;
  const page2 = Object.entries(forms).map(([k, v]) => `${k}：${v}；`).join('\n') + '\n以上为同一人';

  before(async () => {
    c = await securityContext([
      ['cmp.officer', ['compliance_officer']],
      ['ar', ['archivist']],
    ]);
    // The extractor reads every form, and its evidence quotes the raw OCR text.
    const evidence = [page1, page2].flatMap((text, i) => extractIdNumbers(text).map((m) => ({ page: i + 1, start: m.start, end: m.end, bbox: null, confidence: m.confidence, raw: m.raw })));
    for (const form of Object.values(forms)) assert.ok(evidence.some((e) => e.raw === form), `the extractor reads ${form}`);
    itemId = await fileItem(c.rt, {
      fonds: 'Z001',
      pages: [page1, page2],
      // A title cut from the first OCR line at a fixed length ends inside the number.
      title: `公民身份号码${ID.slice(0, 15)}`,
      persons: [{ name: '张三', idNumber: ID }],
      metadata: { persons: [{ name: '张三', idNumber: ID, evidence }] },
    });
    await indexItem(c.rt, itemId);
  });
  after(async () => c?.close());

  it('#13.2 control: an archivist (personal.full) sees the number in full', async () => {
    const res = await api(c, 'ar', 'GET', `/api/v1/items/${itemId}?text=1`);
    assert.equal(res.status, 200);
    assert.ok(res.text.includes(ID));
  });

  it('#13.2 item view with page text and evidence[].raw: no 12 digits of the number in any form', async () => {
    const res = await api(c, 'cmp.officer', 'GET', `/api/v1/items/${itemId}?text=1`);
    assert.equal(res.status, 200);
    assert.ok(res.text.includes('110105********2318'), 'masked, not dropped');
    assertNoTwelveDigits('GET /items/:id?text=1', res.text);
  });

  it('#13.2 page text routes: no 12 digits of the number', async () => {
    for (const n of [1, 2]) {
      const res = await api(c, 'cmp.officer', 'GET', `/api/v1/items/${itemId}/pages/${n}/text`);
      assert.equal(res.status, 200);
      assertNoTwelveDigits(`GET /pages/${n}/text`, res.text);
    }
  });

  it('#13.2 search snippets never start or end inside a number', async () => {
    for (const q of ['待遇核定', '以上为同一人', '养老保险']) {
      const res = await api(c, 'cmp.officer', 'GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200);
      assert.ok(res.json.total >= 1, q);
      assertNoTwelveDigits(`search ${q}`, res.text);
    }
  });

  it('#13.2 the person file and catalogue answers: no 12 digits of the number', async () => {
    for (const p of [`/api/v1/persons/${ID}/items`, '/api/v1/search?q=' + encodeURIComponent(ID)]) {
      const res = await api(c, 'cmp.officer', 'GET', p);
      assertNoTwelveDigits(p, res.text);
    }
  });
});
