/** Prometheus metrics. One registry per process (tests create their own app, and their own registry). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  jobs: Counter<'name' | 'outcome'>;
  queueDepth: Gauge<'name' | 'state'>;
  /** age of the oldest due job waiting in the queue, by job name */
  queueAge: Gauge<'name'>;
  /** pages captured (OCRed and stored); pages per minute = rate(…[5m]) * 60 */
  pages: Counter;
  ocrConfidence: Histogram;
  items: Gauge<'status'>;
  /** errors by catalogue code, from HTTP answers and failed jobs */
  errors: Counter<'code' | 'source'>;
  /** unix time of the last successful run, by kind (four-properties, backup, fsck) */
  lastSuccess: Gauge<'kind'>;
  /** integrity checks (四性, fsck) that found a problem, by kind */
  integrityFailures: Counter<'kind'>;
  /**
   * Called (at most every 2 s) before a scrape reads the sampled gauges (queue, items, last
   * success): the runtime installs the functions that query the database for them.
   */
  samplers: Array<() => Promise<void>>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'archive_' });
  const samplers: Array<() => Promise<void>> = [];
  let sampling: Promise<void> | null = null;
  let sampledAt = 0;
  // One database round per scrape, whichever sampled gauge asks first.
  const sample = (): Promise<void> => {
    if (sampling && Date.now() - sampledAt < 2000) return sampling;
    sampledAt = Date.now();
    sampling = Promise.all(samplers.map((f) => f().catch(() => undefined))).then(() => undefined);
    return sampling;
  };
  return {
    samplers,
    queueAge: new Gauge({
      name: 'archive_queue_oldest_seconds',
      help: 'Age of the oldest due job waiting in the queue, by job name (sampled on scrape)',
      labelNames: ['name'],
      registers: [registry],
      collect: sample,
    }),
    pages: new Counter({ name: 'archive_pages_captured_total', help: 'Pages captured (cleaned, OCRed, stored); pages/min = rate()*60', registers: [registry] }),
    ocrConfidence: new Histogram({
      name: 'archive_ocr_confidence',
      help: 'OCR mean word confidence per page (0-100)',
      buckets: [10, 20, 30, 40, 50, 60, 70, 80, 90, 95],
      registers: [registry],
    }),
    items: new Gauge({ name: 'archive_items', help: 'Archive items by status (sampled on scrape)', labelNames: ['status'], registers: [registry], collect: sample }),
    errors: new Counter({ name: 'archive_errors_total', help: 'Errors by catalogue code and source (http, job)', labelNames: ['code', 'source'], registers: [registry] }),
    lastSuccess: new Gauge({
      name: 'archive_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run by kind: four-properties (四性检测), backup, fsck (sampled on scrape)',
      labelNames: ['kind'],
      registers: [registry],
      collect: sample,
    }),
    integrityFailures: new Counter({ name: 'archive_integrity_failures_total', help: 'Integrity checks (四性检测, fsck) that found problems, by kind', labelNames: ['kind'], registers: [registry] }),
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
      collect: sample,
    }),
  };
}
