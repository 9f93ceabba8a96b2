/** The viewer's hit boxes: which OCR words make up each occurrence of a search term (web/src/hits.ts). */
import assert from 'node:assert/strict';
import { hitBoxes, terms } from '../../../web/src/hits';

const box = (x0: number) => ({ x0, y0: 10, x1: x0 + 10, y1: 20 });

describe('web viewer: search terms and hit boxes', () => {
  it('keeps phrases whole and leaves excluded words out', () => {
    assert.deepEqual(terms('欧阳振华 "工伤 认定" -撤销 110105198703152318'), ['欧阳振华', '工伤认定', '110105198703152318']);
    assert.deepEqual(terms('-"不要" 张伟'), ['张伟']);
  });

  it('boxes every word an occurrence touches, across OCR word boundaries, and nothing else', () => {
    const line = { text: '被调查人：欧阳振华', bbox: box(0), words: [{ text: '被调查人：', bbox: box(0) }, { text: '欧阳', bbox: box(100) }, { text: '振华', bbox: box(200) }, { text: '。', bbox: box(300) }] };
    assert.deepEqual(hitBoxes([line], ['阳振']).map((b) => b.x0), [100, 200]);
    assert.deepEqual(hitBoxes([line], ['欧阳振华', '调查']).map((b) => b.x0), [100, 200, 0]);
    assert.deepEqual(hitBoxes([line], ['李秀英']), []);
    assert.deepEqual(hitBoxes(undefined, ['欧阳']), []);
  });

  it('finds each occurrence on a line', () => {
    const line = { text: '张伟 张伟', bbox: box(0), words: [{ text: '张伟', bbox: box(0) }, { text: '张伟', bbox: box(50) }] };
    assert.equal(hitBoxes([line], ['张伟']).length, 2);
  });
});
