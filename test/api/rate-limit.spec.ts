import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../src/api/app';
import { defineRoute, type RouteDef } from '../../src/api/route';
import { parseConfig } from '../../src/config';
import { createMetrics } from '../../src/metrics';
import { testLogger } from '../helpers/logger';

describe('API request rate limit per client address', () => {
  let server: Server;
  let base: string;
  const ping = defineRoute({
    method: 'get',
    path: '/api/v1/ping',
    summary: 'ping',
    tags: ['test'],
    public: true,
    responses: { 200: { description: 'pong' } },
    handler: (ctx) => {
      ctx.body = { ok: true };
    },
  });

  before(async () => {
    const app = createApp({ config: parseConfig({ RATE_LIMIT_PER_MINUTE: '60' }), logger: testLogger, metrics: createMetrics({ defaultMetrics: false }), readiness: [], routes: [ping] as RouteDef[] });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server?.close());

  it('answers 429 rate_limited with Retry-After and both languages once the burst is spent; probes are not counted', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await fetch(`${base}/api/v1/ping`)).status);
    // 60 per minute: a burst of 15, then one a second.
    assert.equal(statuses.filter((s) => s === 200).length, 15, statuses.join(','));
    assert.ok(statuses.slice(15).every((s) => s === 429));
    const res = await fetch(`${base}/api/v1/ping`);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    const body = (await res.json()) as { error: { code: string; message: string; messageZh?: string } };
    assert.equal(body.error.code, 'rate_limited');
    assert.match(JSON.stringify(body), /请求过于频繁/);
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'health probes pass while limited');
  });

  it('is off under NODE_ENV=test unless configured, 1200 a minute otherwise', () => {
    assert.equal(parseConfig({ NODE_ENV: 'test' }).http.rateLimitPerMinute, 0);
    assert.equal(parseConfig({ NODE_ENV: 'production', ARCHIVE_KEYSTORE_PASSPHRASE: 'x'.repeat(16) }).http.rateLimitPerMinute, 1200);
  });
});
