/**
 * Request rate limit per client address (issue #6, hardening): a token bucket per IP, refilled at
 * the configured rate, holding a quarter-minute's worth as burst. In memory per API process: a
 * limit against floods and scripted scraping, not an accounting system (with N API processes a
 * client gets N times the rate). Probes (/healthz, /readyz, /metrics) are not counted.
 */
import type { Middleware } from 'koa';
import { AppError } from '../../errors';

const EXEMPT = /^\/(healthz|readyz|metrics)\b/;

export function rateLimit(perMinute: number, now: () => number = Date.now): Middleware {
  const perMs = perMinute / 60_000;
  const capacity = Math.max(10, Math.ceil(perMinute / 4));
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  return async (ctx, next) => {
    if (perMinute <= 0 || EXEMPT.test(ctx.path)) return next();
    const t = now();
    if (t - lastSweep > 60_000) {
      // A full bucket is the same as no bucket: forget idle clients so the map stays small.
      for (const [ip, b] of buckets) if (b.tokens + (t - b.at) * perMs >= capacity) buckets.delete(ip);
      lastSweep = t;
    }
    const key = ctx.ip || 'unknown';
    const b = buckets.get(key) ?? { tokens: capacity, at: t };
    b.tokens = Math.min(capacity, b.tokens + (t - b.at) * perMs);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) {
      const retryAfterSeconds = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
      ctx.set('Retry-After', String(retryAfterSeconds));
      throw new AppError('rate_limited', { details: { retryAfterSeconds } });
    }
    b.tokens -= 1;
    return next();
  };
}
