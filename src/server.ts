/**
 * Runs the API and/or a worker (ARCHIVE_ROLE) on one Runtime, and shuts down gracefully:
 * stop accepting, finish in-flight requests, drain running jobs, close connections.
 */
import http from 'node:http';
import type { Config } from './config';
import { createApp } from './api/app';
import { createRuntime, type Runtime } from './runtime';
import { Worker } from './jobs/worker';
import { buildJobHandlers } from './jobs/registry';
import { assertArchiveKeysOpen } from './jobs/preflight';
import { featureRoutes } from './api/routes';
import { sweepUnqueuedItems } from './services/capture';
import { HotFolder } from './services/capture';
import { SearchEngine, searchBackend, snapshotSearchIndex } from './services/search';
import { scheduleFourProperties } from './services/integrity';
import { startControlSocket, type ControlSocketServer } from './cli/control-server';

/**
 * How often an API process brings the index snapshot up to date (when the log moved at all: a
 * snapshot after a few filings uploads only their small segments and a manifest).
 */
const SNAPSHOT_INTERVAL_MS = 60_000;
const SNAPSHOT_MIN_ENTRIES = 1;

export interface RunningServer {
  runtime: Runtime;
  url: string | undefined;
  /** the control socket `archive search` asks (null: none, e.g. ARCHIVE_CONTROL_SOCKET=false or a worker) */
  controlSocket: string | null;
  worker: Worker | undefined;
  shutdown: (reason: string) => Promise<void>;
}

export async function startServer(config: Config, opts: { role?: Config['role']; handleSignals?: boolean } = {}): Promise<RunningServer> {
  const role = opts.role ?? config.role;
  const runtime = await createRuntime(config);
  const { logger } = runtime;
  if (role === 'worker' || role === 'all') {
    // A worker that cannot open this archive's data keys refuses to start rather than fail every job it claims.
    try {
      await assertArchiveKeysOpen(runtime);
    } catch (err) {
      await runtime.close();
      throw err;
    }
  }
  let server: http.Server | undefined;
  let control: ControlSocketServer | null = null;
  let snapshotTimer: NodeJS.Timeout | undefined;
  let url: string | undefined;
  let inflight = 0;
  // Signals are taken from the start: one that arrives while the worker is still starting (the
  // API already listens) is acted on once start-up is done, instead of killing the process.
  let pendingSignal: string | null = null;
  let onSignal = (sig: string) => {
    pendingSignal ??= sig;
  };
  if (opts.handleSignals !== false) {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => onSignal(sig));
  }

  if (role === 'api' || role === 'all') {
    const app = createApp({ config, logger, metrics: runtime.metrics, readiness: runtime.readiness, routes: featureRoutes(runtime), auth: { auth: runtime.auth, audit: runtime.audit, clearanceLevels: config.clearanceLevels } });
    server = http.createServer(app.callback());
    server.on('request', (_req, res) => {
      inflight++;
      res.once('close', () => inflight--);
    });
    server.requestTimeout = 10 * 60_000; // large uploads
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(config.http.port, config.http.host, () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.http.port;
    url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
    logger.info({ url }, 'API listening');
    // `archive search` on this machine asks here rather than loading the index itself (docs/ARCHITECTURE.md).
    control = await startControlSocket(runtime).catch((err: unknown) => {
      logger.warn({ err }, 'control socket not started; `archive search` loads the index itself');
      return null;
    });
    // Load the full-text index now, in the background, rather than on the first caseworker's
    // search; readiness does not wait for it (searches answer 503 search_index_loading until it
    // is in memory). A failure is retried by the next search. Once loaded, the process keeps the
    // index snapshot current (services/search/snapshot.ts), so that the next start loads a
    // snapshot from the blob store plus a short log tail instead of every segment from the database.
    const t0 = Date.now();
    void searchBackend(runtime)
      .then(async (e) => {
        await e.open();
        const stats = e instanceof SearchEngine ? e.loadStats : null;
        logger.info({ ms: Date.now() - t0, ...(stats ?? {}) }, 'search index loaded');
        await snapshotSearchIndex(runtime, SNAPSHOT_MIN_ENTRIES);
        snapshotTimer = setInterval(() => void snapshotSearchIndex(runtime, SNAPSHOT_MIN_ENTRIES), SNAPSHOT_INTERVAL_MS);
        snapshotTimer.unref();
      })
      .catch((err: unknown) => logger.warn({ err }, 'loading the search index failed; the first search retries'));
  }

  let worker: Worker | undefined;
  if (role === 'worker' || role === 'all') {
    const jobs = buildJobHandlers(runtime);
    worker = new Worker(runtime.queue, jobs.handlers, logger, runtime.metrics, { concurrency: config.ocr.itemsInProgress });
    worker.onStopped(jobs.close);
    worker.start();
    if (config.hotFolder) {
      const hot = new HotFolder(runtime, { root: config.hotFolder, fonds: config.fonds });
      hot.start();
      worker.onStopped(() => hot.stop());
    }
    await sweepUnqueuedItems(runtime).catch((err: unknown) => logger.warn({ err }, 'sweep of unqueued items failed'));
    await scheduleFourProperties(runtime, config.fourPropertiesIntervalMs).catch((err: unknown) => logger.warn({ err }, 'scheduling the periodic 四性 check failed; the next worker start retries'));
  }

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    closing ??= (async () => {
      logger.info({ reason, inflight }, 'shutting down');
      clearInterval(snapshotTimer);
      await control?.close();
      const deadline = Date.now() + config.shutdownTimeoutMs;
      if (server) {
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        const remaining = Math.max(0, deadline - Date.now());
        const timedOut = await Promise.race([closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), remaining).unref())]);
        if (timedOut) {
          logger.warn({ inflight }, 'requests still running at the shutdown deadline; closing their connections');
          server.closeAllConnections();
        }
      }
      if (worker) await worker.stop(Math.max(1000, deadline - Date.now()));
      await runtime.close();
      logger.info('shutdown complete');
    })();
    return closing;
  };

  onSignal = (sig) => {
    void shutdown(sig).then(() => process.exit(0));
  };
  if (pendingSignal) onSignal(pendingSignal);
  return { runtime, url, controlSocket: control?.path ?? null, worker, shutdown };
}
