/** The viewer's hit boxes: which OCR words make up each occurrence of a search term (web/src/hits.ts). */
import assert from 'node:assert/strict';
import { hitBoxes, spanBox, terms } from '../../../web/src/hits';

const box = (x0: number) => ({ x0, y0: 10, x1: x0 + 10, y1: 20 });

describe('web viewer: search terms and hit boxes', () => {
  it('keeps phrases whole and leaves excluded words out', () => {
    assert.deepEqual(terms('欧阳振华 "工伤 认定" -撤销 110105198703152318'), ['欧阳振华', '工伤认定', '110105198703152318']);
    assert.deepEqual(terms('-"不要" 张伟'), ['张伟']);
  });

  // Tesseract's boxes for two lines of a 300 dpi page (11 pt, 46 px to the character), as it gave
  // them: the line's ends and the number's box hold to the ink; the Chinese words' boxes drift right.
  const b = (x0: number, y0: number, x1: number, y1: number) => ({ x0, y0, x1, y1 });
  const nameLine = {
    text: '受伤职工姓名:欧阳振华', bbox: b(107, 206, 610, 251),
    words: [{ text: '受伤', bbox: b(107, 206, 216, 250) }, { text: '职工', bbox: b(224, 208, 315, 251) }, { text: '姓名', bbox: b(314, 202, 373, 267) }, { text: ':', bbox: b(401, 221, 407, 244) }, { text: '欧阳', bbox: b(444, 207, 534, 250) }, { text: '振', bbox: b(533, 209, 563, 249) }, { text: '华', bbox: b(578, 207, 610, 249) }],
  };
  const idLine = {
    text: '公民身份号码:110105198703152318', bbox: b(106, 307, 912, 350),
    words: [{ text: '公民', bbox: b(106, 307, 192, 350) }, { text: '身份', bbox: b(208, 307, 313, 350) }, { text: '号', bbox: b(336, 310, 354, 344) }, { text: '码', bbox: b(358, 308, 379, 350) }, { text: ':', bbox: b(404, 321, 407, 344) }, { text: '110105198703152318', bbox: b(430, 312, 912, 344) }],
  };
  const near = (got: number, want: number) => assert.ok(Math.abs(got - want) <= 6, `${got} is not near ${want}`);

  it('boxes an occurrence where its characters are printed, not where tesseract put the words', () => {
    // Printed: 欧 427-473 … 华 564-610 (eleven characters of 45.7 px from 107); tesseract's 欧阳 starts at 444.
    const [name] = hitBoxes([nameLine], ['欧阳振华']);
    near(name!.x0, 427);
    near(name!.x1, 610);
    assert.deepEqual([name!.y0, name!.y1], [206, 251], 'the height of the line');
    const [surname] = hitBoxes([nameLine], ['欧阳']);
    near(surname!.x1, 518);
    const [label] = hitBoxes([nameLine], ['姓名']);
    near(label!.x0, 290);
    near(label!.x1, 381);
  });

  it('keeps a number\'s own box, and lays the Chinese before it up to where it starts', () => {
    assert.deepEqual(hitBoxes([idLine], ['110105198703152318']), [b(430, 307, 912, 350)]);
    const [label] = hitBoxes([idLine], ['公民身份号码']);
    near(label!.x0, 106);
    near(label!.x1, 384);
    // Part of the number: its digits share the number's box evenly.
    const [tail] = hitBoxes([idLine], ['2318']);
    near(tail!.x0, 912 - 4 * (482 / 18));
  });

  it('one box an occurrence, across word boundaries; none for what is not there', () => {
    assert.equal(hitBoxes([nameLine], ['阳振']).length, 1);
    assert.equal(hitBoxes([nameLine, idLine], ['欧阳振华', '身份']).length, 2);
    assert.deepEqual(hitBoxes([nameLine], ['李秀英']), []);
    assert.deepEqual(hitBoxes(undefined, ['欧阳']), []);
  });

  it('a line read again whole (one word, the line\'s box) is laid out by its characters too', () => {
    const line = { text: '决定日期:2019年5月20日', bbox: b(100, 0, 100 + 46 * 8 + 26 * 7, 46), words: [{ text: '决定日期:2019年5月20日', bbox: b(100, 0, 100 + 46 * 8 + 26 * 7, 46) }] };
    const [year] = hitBoxes([line], ['2019年']);
    near(year!.x0, 100 + 46 * 5);
  });

  it('a field gap wider than an em starts the layout afresh', () => {
    const line = { text: '姓名:张伟 性别:男', bbox: b(0, 0, 600, 46), words: [{ text: '姓名:张伟', bbox: b(10, 0, 230, 46) }, { text: '性别:男', bbox: b(400, 0, 560, 46) }] };
    const [sex] = hitBoxes([line], ['性别']);
    near(sex!.x0, 400);
  });

  it('boxes an extracted field over its own characters: the span of the page text it came from', () => {
    const text = `${idLine.text}\n${nameLine.text}`;
    const at = text.indexOf('欧阳振华');
    const name = spanBox([idLine, nameLine], text, at, at + 4)!;
    near(name.x0, 427);
    near(name.x1, 610);
    assert.deepEqual([name.y0, name.y1], [206, 251]);
    const id = text.indexOf('110105198703152318');
    assert.deepEqual(spanBox([idLine, nameLine], text, id, id + 18), b(430, 307, 912, 350));
    // Spaces in the line's text do not move anything; a line whose words hold other characters
    // than its text (its text changed after reading) gets no guess.
    const spaced = { ...nameLine, text: '受伤职工姓名: 欧阳振华 ' };
    near(spanBox([spaced], spaced.text, 8, 12)!.x0, 427);
    const odd = { ...nameLine, text: `${nameLine.text}印` };
    assert.equal(spanBox([odd], odd.text, 7, 11), null);
  });

  it('finds each occurrence on a line', () => {
    const line = { text: '张伟 张伟', bbox: box(0), words: [{ text: '张伟', bbox: box(0) }, { text: '张伟', bbox: box(50) }] };
    assert.equal(hitBoxes([line], ['张伟']).length, 2);
  });
});
