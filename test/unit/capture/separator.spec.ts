import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeSeparator, detectSeparator, encodeSeparator, separatorSheetsPdf } from '../../../src/services/capture/separator';
import { renderScan } from '../../helpers/scan';

describe('separator sheets for batch scanning', function () {
  this.timeout(30_000);

  it('encodes and decodes pre-registered data, and ignores foreign codes', () => {
    const data = { box: 'B-2024-0012', idNumber: '11010519491231002X', name: '张伟' };
    assert.deepEqual(decodeSeparator(encodeSeparator(data)), data);
    assert.equal(decodeSeparator('https://example.com/qr'), null);
    assert.equal(decodeSeparator('SIARCH-SEP:1:not-base64-json'), null);
    assert.throws(() => encodeSeparator({ idNumber: '123' }));
  });

  it('a printed sheet, scanned back (150 dpi, slightly rotated, greyscale JPEG), is recognised with its data', async () => {
    const data = { box: 'B7', idNumber: '11010519491231002X', name: '李娜' };
    const pdf = await separatorSheetsPdf([{ box: 'B6' }, data]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sep-'));
    fs.writeFileSync(path.join(dir, 'sheets.pdf'), pdf);
    execFileSync('pdftoppm', ['-r', '150', '-png', path.join(dir, 'sheets.pdf'), path.join(dir, 'p')]);
    const pages = fs.readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
    assert.equal(pages.length, 2);
    const scanned = await sharp(path.join(dir, pages[1]!)).rotate(2, { background: '#fff' }).greyscale().jpeg({ quality: 70 }).toBuffer();
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(await detectSeparator(scanned), data);
  });

  it('an ordinary document page is not a separator', async () => {
    assert.equal(await detectSeparator(await renderScan(['社会保险参保人员登记表', '姓名：张伟'], { dpi: 200 })), null);
  });
});
