/**
 * The process's long-lived resources, opened in dependency order and closed in reverse:
 * database, keyring, blob store, queue. API and worker both build on one Runtime.
 */
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { Config } from './config';
import { connectDb, ensureIndexes, pingDb } from './db';
import { createLogger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { JobQueue } from './jobs/queue';
import { registerModels } from './models';
import { deriveItemKeys, installItemKeys } from './models/item-codec';
import { indexKey, openAuditAnchor } from './services/platform';
import { openStorage, type StorageHandle } from './services/platform';
import type { ReadinessCheck } from './api/routes/system.routes';
import { AuditTrail } from './services/audit';
import { loadAuditSigner } from './services/audit';
import { AuthService } from './services/access';
import { installOperationalMetrics, operationalReadiness } from './services/integrity';

export interface Runtime {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Connection;
  storage: StorageHandle;
  queue: JobQueue;
  /** The audit trail: modules call rt.audit.record({ actor, role, ip, action, object, outcome, details }). */
  audit: AuditTrail;
  auth: AuthService;
  readiness: ReadinessCheck[];
  close: () => Promise<void>;
}

export async function createRuntime(config: Config, opts: { logger?: Logger; metrics?: Metrics } = {}): Promise<Runtime> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const metrics = opts.metrics ?? createMetrics();
  const db = await connectDb(config.mongo.uri, { timeoutMs: config.mongo.connectTimeoutMs });
  let storage: StorageHandle;
  try {
    storage = await openStorage(config, logger);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  const queue = new JobQueue(db, { leaseMs: config.jobs.leaseMs });
  let audit: AuditTrail;
  let auth: AuthService;
  try {
    // Signed checkpoints are also anchored in an object-locked bucket a database administrator cannot touch (#13.7).
    const anchor = await openAuditAnchor(config, logger);
    audit = new AuditTrail(db, { signer: loadAuditSigner(config.dataDir, { passphrase: config.keystore.passphrase }), logger, anchor });
    // Constructing the services registers their models: before ensureIndexes, which builds the
    // indexes (unique ones included) of every registered model.
    // TOTP secrets are sealed under a key derived from the application key (blob store, KEKs), loaded on first use.
    auth = new AuthService(db, { audit, requireTotp: config.requireTotp, sealRoot: () => indexKey(rt) });
    registerModels(db);
    await ensureIndexes(db);
  } catch (err) {
    // A half-opened runtime must not keep the process alive with an open connection.
    await db.close().catch(() => undefined);
    throw err;
  }
  const readiness: ReadinessCheck[] = [
    { name: 'mongodb', check: () => pingDb(db) },
    { name: 'minio', check: () => storage.blobs.ping() },
    {
      name: 'keys',
      check: async () => {
        if (!storage.keysLoaded()) throw new Error('no key-encryption key loaded');
      },
    },
  ];
  const rt: Runtime = {
    config,
    logger,
    metrics,
    db,
    storage,
    queue,
    audit,
    auth,
    readiness,
    close: async () => {
      await audit.close().catch((err: unknown) => logger.error({ err }, 'flushing the audit trail failed'));
      await db.close().catch((err: unknown) => logger.warn({ err }, 'closing MongoDB failed'));
    },
  };
  // Readiness that means something, and the gauges an operator watches (docs/operations.md).
  readiness.push(...operationalReadiness(rt));
  installOperationalMetrics(rt);
  // Items' personal fields are sealed under keys derived from the index key (blob store, KEKs);
  // loaded by the first item query, so processes that never touch items never fetch it.
  installItemKeys(db, async () => deriveItemKeys(await indexKey(rt)));
  return rt;
}
