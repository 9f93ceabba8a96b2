/**
 * Builds the Koa application from its dependencies. No listen(): src/server.ts listens (via `archive serve`), tests mount it on an ephemeral port.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Logger } from 'pino';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Metrics } from '../metrics';
import { errorHandler } from './middleware/error-handler';
import { rateLimit } from './middleware/rate-limit';
import { requestContext } from './middleware/request-context';
import { webUi } from './middleware/web';
import { guardRoute, type AuthDeps } from './middleware/auth';
import { buildOpenApi, DEFAULT_PERMISSION, parseInput, type RouteDef } from './route';
import { systemRoutes, type ReadinessCheck } from './routes/system.routes';

export const API_VERSION = '0.1.0';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
  /** Feature routes (items, ingest, search…), added by later modules. */
  routes?: RouteDef[];
  /**
   * Authentication and permission checks for every non-public route. Required in production;
   * NOTE: when left out elsewhere (older tests mounting createApp bare) routes run unchecked.
   */
  auth?: AuthDeps;
}

export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: deps.config.http.trustProxy });
  const routes: RouteDef[] = [];
  const openApi = () => buildOpenApi(routes, { title: '社保业务电子档案系统 API (social-insurance e-archive)', version: API_VERSION });
  routes.push(
    ...systemRoutes({
      readiness: deps.readiness,
      metricsText: () => deps.metrics.registry.metrics(),
      metricsContentType: deps.metrics.registry.contentType,
      openApi,
      version: API_VERSION,
    }),
    ...(deps.routes ?? []),
  );

  if (!deps.auth && deps.config.env === 'production') throw new AppError('config_invalid', { message: 'createApp: authentication is required in production' });
  const router = new Router();
  for (const r of routes) {
    router[r.method](r.path, async (ctx) => {
      const run = async () => {
        const params = parseInput(r.params, ctx.params, 'params');
        const query = parseInput(r.query, ctx.query, 'query');
        const body = parseInput(r.body, (ctx.request as { body?: unknown }).body, 'body');
        await r.handler(ctx, { params, query, body });
      };
      // Every route is checked here, by construction: public ones are the declared exception.
      if (r.public || !deps.auth) await run();
      else await guardRoute(deps.auth, ctx, r.permission ?? DEFAULT_PERMISSION, run);
    });
  }

  app.use(requestContext(deps.logger));
  app.use(async (ctx, next) => {
    const end = deps.metrics.httpDuration.startTimer();
    try {
      await next();
    } finally {
      // Route templates, not raw paths, keep label cardinality bounded.
      const route = (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      end({ method: ctx.method, route });
      deps.metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      if (ctx.status >= 400) {
        const code = (ctx.body as { error?: { code?: unknown } } | undefined)?.error?.code;
        deps.metrics.errors.inc({ code: typeof code === 'string' ? code : `http_${ctx.status}`, source: 'http' });
      }
    }
  });
  app.use(errorHandler(deps.logger));
  app.use(rateLimit(deps.config.http.rateLimitPerMinute));
  app.use(async (ctx, next) => {
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    await next();
  });
  app.use(
    bodyParser({
      enableTypes: ['json'],
      jsonLimit: deps.config.http.bodyLimitBytes,
      // Only JSON objects and arrays: a bare string or number is never a valid body here.
      jsonStrict: true,
      onError: (err) => {
        throw Object.assign(err, { expose: true, status: (err as { status?: number }).status ?? 400 });
      },
    }),
  );
  app.use(async (ctx, next) => {
    await next();
    // Nothing matched and nothing answered: say so in the catalogue's shape.
    if (ctx.status === 404 && ctx.body === undefined) {
      throw new AppError('route_not_found', { details: { method: ctx.method, path: ctx.path } });
    }
  });
  app.use(webUi());
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true, methodNotAllowed: () => new AppError('method_not_allowed') }));
  return app;
}
