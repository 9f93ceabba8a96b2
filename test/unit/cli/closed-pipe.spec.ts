import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

describe('CLI output into a pipe that closes early (archive … | head)', function () {
  this.timeout(60_000);
  it('drops what it cannot print and exits as it would have, without a stack trace', async () => {
    const bin = path.join(__dirname, '../../../bin/archive.js');
    const child = spawn(process.execPath, [bin, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes away before the program's first line (as head does after its last).
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, err);
    assert.doesNotMatch(err, /EPIPE|Unhandled 'error' event/);
  });
});
