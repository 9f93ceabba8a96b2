/** Prometheus metrics. One registry per process (tests create their own app, and their own registry). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  jobs: Counter<'name' | 'outcome'>;
  queueDepth: Gauge<'name' | 'state'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'archive_' });
  return {
    registry,
    httpRequests: new Counter({
      name: 'archive_http_requests_total',
      help: 'HTTP requests by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'archive_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'archive_jobs_total',
      help: 'Background jobs finished, by job name and outcome',
      labelNames: ['name', 'outcome'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'archive_queue_jobs',
      help: 'Jobs in the durable queue by name and state (sampled on scrape)',
      labelNames: ['name', 'state'],
      registers: [registry],
    }),
  };
}
