import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { archiveIdentity } from '../../../src/cli/control-socket';
import { parseConfig } from '../../../src/config';

const REPO = path.resolve(__dirname, '..', '..', '..');

describe('cli: `archive search` asks the API before loading anything heavy', () => {
  it('the command and its control-socket client load no service, database, storage or search code', () => {
    // A run folder with nothing to ask: the client looks, finds no socket, and the test stops it
    // there (searchHere is replaced) to list what had been required from src/ by then.
    const run = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-run-'));
    const script = `require('tsx/cjs/api').register();
      process.env.ARCHIVE_CONTROL_SOCKET_DIR = ${JSON.stringify(run)};
      const Module = require('node:module');
      const load = Module._load;
      let asked = false;
      Module._load = function (request, parent, isMain) {
        if (/search-run/.test(request)) {
          asked = true;
          const mine = Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(REPO)}) && !f.includes('node_modules'));
          process.stdout.write(JSON.stringify(mine.map((f) => f.slice(${REPO.length + 1}))));
          process.exit(0);
        }
        return load.apply(this, arguments);
      };
      require('./src/cli/main.ts').main(['search', '养老保险'], { out() {}, err() {}, isTTY: false });`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' })) as string[];
    fs.rmSync(run, { recursive: true, force: true });
    assert.ok(loaded.includes('src/cli/commands/search.ts') && loaded.includes('src/cli/control-socket.ts'), loaded.join(', '));
    const heavy = loaded.filter((f) => /src\/(services|models|runtime|db|api|server)|src\/cli\/(identity|runtime|control-server)|storage\/|ocr\//.test(f));
    assert.deepEqual(heavy, []);
    // nor mongoose, minio or the search engine's tokenizer from node_modules
    const script2 = script.replace("f.startsWith(" + JSON.stringify(REPO) + ") && !f.includes('node_modules')", "/node_modules\\/(mongoose|minio|@node-rs|node-forge|pino)\\//.test(f)");
    const heavyPackages = JSON.parse(execFileSync(process.execPath, ['-e', script2], { cwd: REPO, encoding: 'utf8' })) as string[];
    assert.deepEqual(heavyPackages, []);
  });

  it('an API counts as the same archive whatever OpenSearch address a shell has, unless OpenSearch is the backend', () => {
    const base = { ARCHIVE_MONGO_PORT: '27001', ARCHIVE_MINIO_PORT: '9001' };
    const id = (env: Record<string, string>) => archiveIdentity(parseConfig({ ...base, ...env }));
    // The test suite exports ARCHIVE_OPENSEARCH_PORT for every process; the embedded index does not use it.
    assert.equal(id({}), id({ ARCHIVE_OPENSEARCH_PORT: '9330' }));
    assert.notEqual(id({ ARCHIVE_SEARCH_BACKEND: 'opensearch' }), id({ ARCHIVE_SEARCH_BACKEND: 'opensearch', ARCHIVE_OPENSEARCH_PORT: '9330' }));
    assert.notEqual(id({}), id({ ARCHIVE_MONGO_PORT: '27002' }));
  });
});
