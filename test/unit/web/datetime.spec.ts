import assert from 'node:assert/strict';
import { dateTime } from '../../../web/src/datetime';

describe('web dateTime: one way to write a moment on every page', () => {
  it('writes year-month-day with leading zeros and a 24-hour time, in local time', () => {
    const at = new Date(2026, 11, 4, 9, 5, 7); // local 2026-12-04 09:05:07
    assert.equal(dateTime(at), '2026-12-04 09:05');
    assert.equal(dateTime(at.toISOString(), { seconds: true }), '2026-12-04 09:05:07');
    assert.equal(dateTime(new Date(2026, 0, 31, 21, 54).getTime()), '2026-01-31 21:54');
  });
  it('a missing or unreadable moment is a dash, never "Invalid Date"', () => {
    for (const v of [null, undefined, '', 'not a date']) assert.equal(dateTime(v), '—');
  });
});
