/**
 * A route is declared once, with its zod schemas; the same declaration validates requests and
 * produces the OpenAPI document, so the document describes exactly the routes that exist.
 */
import type { Context } from 'koa';
import { z, type ZodType } from 'zod';
import { AppError } from '../errors';

/** What a route without an explicit permission requires: a signed-in user. */
export const DEFAULT_PERMISSION = 'session';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
}

export interface ResponseSpec {
  description: string;
  schema?: ZodType;
  contentType?: string;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: HttpMethod;
  /** koa-router style path, e.g. /api/v1/items/:id */
  path: string;
  summary: string;
  tags: string[];
  params?: ZodType<P>;
  query?: ZodType<Q>;
  body?: ZodType<B>;
  /** Raw bodies (multipart uploads, streams) are read by the handler itself. */
  rawBody?: { contentTypes: string[]; description: string };
  responses: Record<number, ResponseSpec>;
  /**
   * The action (services/policies.ts ACTIONS) a caller must be allowed. Checked centrally in
   * app.ts for every route. Left out, it defaults to 'session': any signed-in user — routes
   * being added without one are still closed to anonymous callers.
   */
  permission?: string;
  /** Open without signing in (health, metrics, OpenAPI, login). */
  public?: true;
  handler: (ctx: Context, input: RouteInput<P, Q, B>) => Promise<void> | void;
}

/** Identity helper that keeps the generic types of a route declaration. */
export function defineRoute<P = undefined, Q = undefined, B = undefined>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
}

export function parseInput<T>(schema: ZodType<T> | undefined, value: unknown, where: 'params' | 'query' | 'body'): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new AppError('validation_failed', {
      details: {
        in: where,
        issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
      },
    });
  }
  return result.data;
}

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('stable machine-readable error code'),
    message: z.string().describe('English message'),
    messageZh: z.string().describe('中文提示'),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
  requestId: z.string(),
});

function toOpenApiPath(p: string): string {
  return p.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function jsonSchema(schema: ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
}

function objectParameters(schema: ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return [];
  const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
  }));
}

export function buildOpenApi(routes: RouteDef<never, never, never>[] | RouteDef[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes as RouteDef[]) {
    const p = toOpenApiPath(r.path);
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: r.tags,
      operationId: `${r.method}${p.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      parameters: [...objectParameters(r.params, 'path'), ...objectParameters(r.query, 'query')],
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([status, spec]) => [
          status,
          {
            description: spec.description,
            ...(spec.schema || spec.contentType
              ? { content: { [spec.contentType ?? 'application/json']: spec.schema ? { schema: jsonSchema(spec.schema) } : {} } }
              : {}),
          },
        ]),
      ),
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } };
    if (r.rawBody) {
      op.requestBody = {
        required: true,
        description: r.rawBody.description,
        content: Object.fromEntries(r.rawBody.contentTypes.map((t) => [t, {}])),
      };
    }
    op.security = r.public ? [] : [{ bearerAuth: [] }, { cookieAuth: [], csrfHeader: [] }];
    if (!r.public) op['x-permission'] = r.permission ?? DEFAULT_PERMISSION;
    (op.responses as Record<string, unknown>).default = {
      description: 'Error (4xx/5xx) with a stable code and Chinese and English messages',
      content: { 'application/json': { schema: jsonSchema(ErrorBodySchema) } },
    };
    paths[p] = { ...(paths[p] ?? {}), [r.method]: op };
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'token from POST /api/v1/auth/login (API and CLI)' },
        cookieAuth: { type: 'apiKey', in: 'cookie', name: 'archive_session', description: 'web UI session (httpOnly)' },
        csrfHeader: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'double-submit token, required with the cookie on unsafe methods' },
      },
    },
  };
}
