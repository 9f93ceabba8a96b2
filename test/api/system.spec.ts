import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection } from 'mongoose';
import { z } from 'zod';
import { createApp } from '../../src/api/app';
import { defineRoute, type RouteDef } from '../../src/api/route';
import { parseConfig } from '../../src/config';
import { pingDb } from '../../src/db';
import { createMetrics } from '../../src/metrics';
import { dropTestDb, openTestDb } from '../helpers/db';
import { testLogger } from '../helpers/logger';

describe('HTTP foundation: health, readiness, metrics, OpenAPI, error model', () => {
  let conn: Connection;
  let server: http.Server;
  let base: string;
  let minioUp = true;

  before(async () => {
    conn = await openTestDb('api');
    const echo = defineRoute({
      method: 'post',
      path: '/api/v1/echo/:n',
      summary: 'test route',
      tags: ['test'],
      params: z.object({ n: z.coerce.number().int().min(1) }),
      body: z.object({ name: z.string().min(1) }),
      responses: { 200: { description: 'echo' } },
      handler: (ctx, { params, body }) => {
        ctx.body = { n: params.n, name: body.name };
      },
    });
    const boom = defineRoute({
      method: 'get',
      path: '/api/v1/boom',
      summary: 'throws an internal error',
      tags: ['test'],
      responses: { 200: { description: 'never' } },
      handler: () => {
        throw new Error('secret internal detail: mongodb://user:pw@host');
      },
    });
    const app = createApp({
      config: parseConfig({ BODY_LIMIT_MB: '0.01' }),
      logger: testLogger,
      metrics: createMetrics({ defaultMetrics: false }),
      readiness: [
        { name: 'mongodb', check: () => pingDb(conn) },
        { name: 'minio', check: async () => { if (!minioUp) throw new Error('connect ECONNREFUSED'); } },
      ],
      routes: [echo, boom] as RouteDef[],
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server?.close();
    await dropTestDb(conn);
  });

  it('GET /healthz answers ok with a request id header', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).status, 'ok');
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('GET /readyz is 200 when dependencies answer and 503 naming the one that does not', async () => {
    const ok = await fetch(`${base}/readyz`);
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as any).checks.mongodb.ok, true);
    minioUp = false;
    const bad = await fetch(`${base}/readyz`);
    minioUp = true;
    assert.equal(bad.status, 503);
    const body = (await bad.json()) as any;
    assert.equal(body.status, 'not_ready');
    assert.equal(body.checks.minio.ok, false);
    assert.match(body.checks.minio.error, /ECONNREFUSED/);
  });

  it('GET /metrics is Prometheus text including request counters by route template', async () => {
    await fetch(`${base}/healthz`);
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(text, /archive_http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });

  it('GET /api/v1/openapi.json describes every route that exists, with path parameters', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as any;
    assert.equal(doc.openapi, '3.1.0');
    for (const p of ['/healthz', '/readyz', '/metrics', '/api/v1/openapi.json', '/api/v1/echo/{n}', '/api/v1/boom']) assert.ok(doc.paths[p], `missing ${p}`);
    assert.equal(doc.paths['/api/v1/echo/{n}'].post.parameters[0].name, 'n');
    assert.ok(doc.paths['/api/v1/echo/{n}'].post.requestBody);
  });

  it('validation errors are 400 with a stable code, Chinese and English messages, and the bad field', async () => {
    const res = await fetch(`${base}/api/v1/echo/0`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: '' }) });
    assert.equal(res.status, 400);
    const body = (await res.json()) as any;
    assert.equal(body.error.code, 'validation_failed');
    assert.match(body.error.messageZh, /[\u4e00-\u9fff]/);
    assert.ok(body.error.message.length > 0);
    assert.equal(body.error.details.in, 'params');
    assert.ok(body.requestId);
  });

  it('malformed JSON is 400 bad_json; an oversized body is 413 payload_too_large', async () => {
    const bad = await fetch(`${base}/api/v1/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.code, 'bad_json');
    const big = await fetch(`${base}/api/v1/echo/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x'.repeat(50_000) }) });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as any).error.code, 'payload_too_large');
  });

  it('unknown routes are 404 route_not_found; wrong methods 405', async () => {
    const res = await fetch(`${base}/api/v1/nope`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as any).error.code, 'route_not_found');
    const m = await fetch(`${base}/healthz`, { method: 'DELETE' });
    assert.equal(m.status, 405);
    assert.equal(((await m.json()) as any).error.code, 'method_not_allowed');
  });

  it('a 500 never leaks internals', async () => {
    const res = await fetch(`${base}/api/v1/boom`);
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /secret|mongodb:\/\//);
    assert.equal(JSON.parse(text).error.code, 'internal_error');
  });

  it('operator-shaped query keys stay plain strings (no nested objects reach handlers)', async () => {
    const res = await fetch(`${base}/api/v1/echo/1?name[$ne]=x`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: { $ne: 'x' } }) });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as any).error.code, 'validation_failed');
  });
});
