import { z } from 'zod';
import { defineRoute, type RouteDef } from '../route';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

const CheckResult = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), ms: z.number(), error: z.string().optional() })),
});

async function runCheck(c: ReadinessCheck, timeoutMs: number): Promise<{ ok: boolean; ms: number; error?: string }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, ms: Date.now() - started, error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

export function systemRoutes(deps: {
  readiness: ReadinessCheck[];
  metricsText: () => Promise<string>;
  metricsContentType: string;
  openApi: () => Record<string, unknown>;
  version: string;
}): RouteDef[] {
  return [
    defineRoute({
      method: 'get',
      path: '/healthz',
      public: true,
      summary: 'Liveness: the process is up',
      tags: ['system'],
      responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok'), version: z.string() }) } },
      handler: (ctx) => {
        ctx.body = { status: 'ok', version: deps.version };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/readyz',
      public: true,
      summary: 'Readiness: MongoDB and MinIO reachable, keys loaded',
      tags: ['system'],
      responses: {
        200: { description: 'ready', schema: CheckResult },
        503: { description: 'a dependency is not ready', schema: CheckResult },
      },
      handler: async (ctx) => {
        const results = await Promise.all(deps.readiness.map(async (c) => [c.name, await runCheck(c, 3000)] as const));
        const ok = results.every(([, r]) => r.ok);
        ctx.status = ok ? 200 : 503;
        ctx.body = { status: ok ? 'ready' : 'not_ready', checks: Object.fromEntries(results) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      public: true,
      summary: 'Prometheus metrics (text exposition format)',
      tags: ['system'],
      responses: { 200: { description: 'metrics', contentType: 'text/plain' } },
      handler: async (ctx) => {
        ctx.type = deps.metricsContentType;
        ctx.body = await deps.metricsText();
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/openapi.json',
      public: true,
      summary: 'This OpenAPI document',
      tags: ['system'],
      responses: { 200: { description: 'OpenAPI 3.1 document' } },
      handler: (ctx) => {
        ctx.body = deps.openApi();
      },
    }),
  ] as RouteDef[];
}
