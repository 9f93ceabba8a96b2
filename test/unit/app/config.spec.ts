import assert from 'node:assert/strict';
import { defaultOcrWorkers, itemsInProgress, parseConfig } from '../../../src/config';
import { AppError } from '../../../src/errors';

describe('configuration', () => {
  it('defaults serve the embedded local mode', () => {
    const c = parseConfig({});
    assert.equal(c.http.host, '127.0.0.1');
    assert.equal(c.http.port, 8080);
    assert.equal(c.mongo.uri, 'mongodb://127.0.0.1:27217/archive');
    assert.deepEqual([c.minio.endPoint, c.minio.port, c.minio.useSSL], ['127.0.0.1', 9100, false]);
    assert.equal(c.role, 'all');
    assert.ok(Object.isFrozen(c));
  });

  it('ARCHIVE_MONGO_PORT / ARCHIVE_MINIO_PORT move the application as well as the services (issue #12 §5)', () => {
    const c = parseConfig({ ARCHIVE_MONGO_PORT: '28417', ARCHIVE_MINIO_PORT: '9550' });
    assert.equal(c.mongo.uri, 'mongodb://127.0.0.1:28417/archive');
    assert.deepEqual([c.minio.endPoint, c.minio.port], ['127.0.0.1', 9550]);
    // An explicit URI (production) wins over the local port.
    const p = parseConfig({ ARCHIVE_MONGO_PORT: '28417', MONGODB_URI: 'mongodb://db.example:27017/a', MINIO_ENDPOINT: 'https://s3.example' });
    assert.equal(p.mongo.uri, 'mongodb://db.example:27017/a');
    assert.deepEqual([p.minio.endPoint, p.minio.port, p.minio.useSSL], ['s3.example', 443, true]);
  });

  it('recognition workers by default: one per core, as many as a memory limit leaves room for', () => {
    const MiB = 2 ** 20;
    // No limit, or an unknown one (cgroup "max" reads as ~2^64): the cores decide.
    assert.equal(defaultOcrWorkers(2, undefined), 2);
    assert.equal(defaultOcrWorkers(2, 0), 2);
    assert.equal(defaultOcrWorkers(8, 2 ** 64), 8);
    // A container's limit: ~320 MiB plus ~85 MiB a worker that cannot be given back. Measured in a
    // memory cgroup: two workers were killed at 448 MiB and read all 48 pages at 480 and 512 MiB.
    assert.equal(defaultOcrWorkers(2, 448 * MiB), 1, 'two workers were killed for memory at this limit');
    assert.equal(defaultOcrWorkers(2, 512 * MiB), 2);
    assert.equal(defaultOcrWorkers(8, 768 * MiB), 5, 'fewer than the cores');
    assert.equal(defaultOcrWorkers(8, 16 * 1024 * MiB), 8, 'never more than the cores');
    // Always at least one, however tight: a process that cannot read is of no use.
    assert.equal(defaultOcrWorkers(8, 256 * MiB), 1);
    assert.equal(defaultOcrWorkers(0, undefined), 1);
    // OCR_WORKERS set by a person always wins.
    assert.equal(parseConfig({ OCR_WORKERS: '3' }).ocr.workers, 3);
  });

  it('a single recogniser gets two more items in progress to keep it reading; more recognisers one item each', () => {
    // One recogniser and one item at a time: each waited for the other (46.5-60 s for bench:ocr's
    // 48 pages against 33-36 s with three items in progress).
    assert.equal(itemsInProgress(1), 3);
    assert.equal(itemsInProgress(2), 2);
    assert.equal(itemsInProgress(4), 4);
    assert.equal(parseConfig({ OCR_WORKERS: '1' }).ocr.itemsInProgress, 3);
    assert.equal(parseConfig({ OCR_WORKERS: '2' }).ocr.itemsInProgress, 2);
  });

  it('names every malformed variable in one error', () => {
    let err: unknown;
    try {
      parseConfig({ PORT: 'eighty', MONGODB_URI: 'postgres://x', MINIO_BUCKET: 'Bad_Bucket', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'config_invalid');
    for (const name of ['PORT', 'MONGODB_URI', 'MINIO_BUCKET', 'LOG_LEVEL']) assert.match(err.message, new RegExp(name));
    assert.match(err.zh, /配置不正确/);
  });

  it('requires a keystore passphrase in production', () => {
    assert.throws(() => parseConfig({ NODE_ENV: 'production' }), /ARCHIVE_KEYSTORE_PASSPHRASE/);
    assert.doesNotThrow(() => parseConfig({ NODE_ENV: 'production', ARCHIVE_KEYSTORE_PASSPHRASE: 'a-long-enough-secret' }));
  });

  it('reads https MinIO endpoints with their default port', () => {
    const c = parseConfig({ MINIO_ENDPOINT: 'https://s3.example.internal' });
    assert.deepEqual([c.minio.endPoint, c.minio.port, c.minio.useSSL], ['s3.example.internal', 443, true]);
  });

  it('treats empty strings as unset', () => {
    assert.equal(parseConfig({ PORT: '' }).http.port, 8080);
  });

  it('search runs embedded by default; ARCHIVE_SEARCH_BACKEND=opensearch reads OPENSEARCH_URL or the local node port (issue #16 §4)', () => {
    assert.equal(parseConfig({}).search.backend, 'embedded');
    const local = parseConfig({ ARCHIVE_SEARCH_BACKEND: 'opensearch', ARCHIVE_OPENSEARCH_PORT: '9430' }).search;
    assert.deepEqual(local, { backend: 'opensearch', opensearch: { url: 'http://127.0.0.1:9430', index: 'archive-items', shards: 1, replicas: 0 } });
    const remote = parseConfig({ ARCHIVE_SEARCH_BACKEND: 'opensearch', OPENSEARCH_URL: 'https://search.internal:9200/', OPENSEARCH_INDEX: 'z001-items', OPENSEARCH_SHARDS: '3', OPENSEARCH_REPLICAS: '1' }).search.opensearch;
    assert.deepEqual(remote, { url: 'https://search.internal:9200', index: 'z001-items', shards: 3, replicas: 1 });
    assert.throws(() => parseConfig({ ARCHIVE_SEARCH_BACKEND: 'elastic' }), /ARCHIVE_SEARCH_BACKEND/);
    assert.throws(() => parseConfig({ OPENSEARCH_INDEX: 'Bad Name' }), /OPENSEARCH_INDEX/);
  });
});
