import assert from 'node:assert/strict';
import { maskLogText } from '../../../src/logger';

describe('log masking (#13.11): personal numbers go, the system\'s own ids stay', () => {
  it('masks an ID number, plain, spaced, hyphenated and full-width, and a mobile number', () => {
    for (const n of ['110105199001011234', '1101 0519 9001 0112 34', '110105-19900101-1234', '１１０１０５１９９００１０１１２３Ｘ', '13812345678']) {
      const out = maskLogText(`{"path":"/api/v1/persons/${n}/items"}`);
      assert.doesNotMatch(out, /[0-9０-９]{4}/, out);
    }
  });
  it('keeps a request id whose hex groups happen to be all digits (was masked, and the request id lost)', () => {
    const id = '12345678-1234-4234-9234-123456789012';
    assert.equal(maskLogText(`{"requestId":"${id}","msg":"request"}`), `{"requestId":"${id}","msg":"request"}`);
  });
  it('does not exempt 24-character hex tokens: 18 digits of a number glued to hex letters are masked', () => {
    assert.doesNotMatch(maskLogText('GET /api/v1/items/110105199001011234abcdef'), /1101051990/);
  });
  it('masks an ID number sitting right after a request id', () => {
    const out = maskLogText('{"requestId":"0a1b2c3d-0000-4000-8000-00000000000a","q":"110105199001011234"}');
    assert.match(out, /0a1b2c3d-0000-4000-8000-00000000000a/);
    assert.doesNotMatch(out, /1101051990/);
  });
});
