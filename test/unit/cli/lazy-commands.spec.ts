import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { COMMANDS } from '../../../src/cli/main';
import { resolveCommand } from '../../../src/cli/command';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('cli: lazily loaded commands', () => {
  it('the list in main.ts says what each command module says (name, summary, usage)', () => {
    for (const stub of COMMANDS) {
      assert.ok(stub.load, `${stub.name} is lazy`);
      const full = resolveCommand(stub);
      assert.equal(full.name, stub.name);
      assert.equal(full.summary, stub.summary, `${stub.name}: summary in main.ts differs from its module`);
      assert.equal(full.usage, stub.usage, `${stub.name}: usage in main.ts differs from its module`);
      assert.equal(full.load, undefined);
    }
  });

  it('`archive --help` loads no service, database or storage code', () => {
    // Run the sources in a child (tsx) and list what --help required from src/.
    const script = `require('tsx/cjs/api').register();
      require('./src/cli/main.ts').main(['--help'], { out() {}, err() {}, isTTY: false }).then(() => {
        const mine = Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(REPO)}) && !f.includes('node_modules'));
        process.stdout.write(JSON.stringify(mine.map((f) => f.slice(${REPO.length + 1}))));
      });`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' })) as string[];
    assert.ok(loaded.includes('src/cli/main.ts'));
    const heavy = loaded.filter((f) => /src\/(services|models|runtime|db|api)|storage\/|ocr\//.test(f));
    assert.deepEqual(heavy, []);
  });
});
