/**
 * The one place that reads process.env. Configuration is validated once at start-up into a
 * frozen, typed object; a bad value fails the start with a message naming every bad variable.
 * Defaults serve the embedded local mode (services started by scripts/services.sh).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors';

/** The checkout: src/ runs from the sources (tsx) or compiled as dist/src/ (npm run build). */
export const REPO_ROOT = path.basename(path.resolve(__dirname, '..')) === 'dist' ? path.resolve(__dirname, '..', '..') : path.resolve(__dirname, '..');

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = z.coerce.number().int().min(0).max(65535);

/** The root account of the MinIO that scripts/services.sh starts (ARCHIVE_MINIO_ROOT_USER/PASSWORD there). */
const EMBEDDED_MINIO = { accessKey: 'archive-local', secretKey: 'archive-local-secret' } as const;

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ARCHIVE_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ARCHIVE_DATA_DIR: z.string().min(1).default(path.join(REPO_ROOT, '.data', 'dev')),
  /**
   * The control socket (docs/ARCHITECTURE.md, "The control socket"): an API process listens on a
   * Unix socket in this folder (default <ARCHIVE_DATA_DIR>/run/control, mode 0700, the socket 0600) and
   * `archive search` asks it instead of loading the index itself. false: no socket, the CLI never asks.
   */
  ARCHIVE_CONTROL_SOCKET_DIR: z.string().min(1).optional(),
  ARCHIVE_CONTROL_SOCKET: bool.default(true),
  /**
   * The local services' ports (scripts/services.sh reads the same two variables): one setting
   * moves the services AND the application, so two clones on one machine never cross over.
   * An explicit MONGODB_URI / MINIO_ENDPOINT (production) wins.
   */
  ARCHIVE_MONGO_PORT: port.default(27217),
  ARCHIVE_MINIO_PORT: port.default(9100),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  MONGODB_CONNECT_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  MINIO_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  MINIO_ACCESS_KEY: z.string().min(3).default(EMBEDDED_MINIO.accessKey),
  MINIO_SECRET_KEY: z.string().min(8).default(EMBEDDED_MINIO.secretKey),
  /** A MinIO connection that carries no byte this long is cut and reported unavailable; the job is retried. */
  MINIO_IDLE_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  MINIO_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name (lowercase letters, digits, dots, dashes)')
    .default('archive'),
  /**
   * S3 object lock for the archive bucket (issue #11 §5): auto = a new bucket is made with it, an
   * existing one is used as it is; require = refuse a bucket without it; off = never.
   */
  ARCHIVE_OBJECT_LOCK: z.enum(['auto', 'require', 'off']).default('auto'),
  /** The destruction executor's privileged MinIO credential (s3:BypassGovernanceRetention); nothing else uses it. */
  ARCHIVE_EXECUTOR_MINIO_ACCESS_KEY: z.string().min(3).optional(),
  ARCHIVE_EXECUTOR_MINIO_SECRET_KEY: z.string().min(8).optional(),
  /** `none`: no executor credential even on the embedded MinIO (a deployment that keeps destruction off this host). */
  ARCHIVE_EXECUTOR_DEFAULT: z.enum(['embedded', 'none']).default('embedded'),
  /**
   * 移交: what becomes of the local copy once the archives' receipt is imported. keep (default) =
   * stays as it is; destroy_after_approval = marked for the destruction approval chain (never
   * destroyed by the receipt itself).
   */
  ARCHIVE_TRANSFER_LOCAL_COPY: z.enum(['keep', 'destroy_after_approval']).default('keep'),
  ARCHIVE_KEYSTORE_DIR: z.string().min(1).optional(),
  ARCHIVE_KEYSTORE_PASSPHRASE: z.string().min(12, 'must be at least 12 characters').optional(),
  ARCHIVE_FONDS: z.string().regex(/^[A-Z0-9]{1,8}$/, 'must be 1-8 capital letters or digits (全宗号)').default('Z001'),
  /** 档号 layout (DA/T 22-2015 with 3号令's 年度—险种—业务环节 as the 机构(问题) level). */
  ARCHIVAL_CODE_TEMPLATE: z.string().min(5).default('{fonds}-{category}·{year}-{period}-{insurance}·{stage}-{piece}'),
  /** 门类代码 of social-insurance business archives in the 档号. */
  ARCHIVE_CATEGORY_CODE: z.string().regex(/^[A-Z]{2,4}$/, 'must be 2-4 capital letters').default('SB'),
  /**
   * Where full-text search runs (issue #16 §4): embedded = the in-process engine over the
   * database (one machine, the default); opensearch = an OpenSearch cluster at OPENSEARCH_URL,
   * which receives only keyed-hash tokens and facet keywords (docs/scaling.md).
   */
  ARCHIVE_SEARCH_BACKEND: z.enum(['embedded', 'opensearch']).default('embedded'),
  /** The local node of scripts/opensearch.sh listens here (as ARCHIVE_MONGO_PORT for FerretDB). */
  ARCHIVE_OPENSEARCH_PORT: port.default(9200),
  OPENSEARCH_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Index name; one archive per index (tests use their own). */
  OPENSEARCH_INDEX: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,200}$/, 'must be a lower-case OpenSearch index name')
    .default('archive-items'),
  /** Shards and replicas of a new index (a rebuild applies a change); one node: 1 and 0. */
  OPENSEARCH_SHARDS: z.coerce.number().int().min(1).max(64).default(1),
  OPENSEARCH_REPLICAS: z.coerce.number().int().min(0).max(8).default(0),
  OCR_WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  TESSDATA_DIR: z.string().min(1).optional(),
  JOB_LEASE_MS: z.coerce.number().int().min(500).default(60_000),
  ARCHIVE_HOTFOLDER: z.string().min(1).optional(),
  BODY_LIMIT_MB: z.coerce.number().positive().default(2),
  /** Intake limits (issue #13.8), enforced while the bytes stream in; see docs/SECURITY.md. */
  /** One file (an original scan); the OCR reader refuses larger files anyway. */
  UPLOAD_LIMIT_MB: z.coerce.number().positive().default(200),
  /** Everything one upload request carries. */
  UPLOAD_REQUEST_LIMIT_MB: z.coerce.number().positive().default(2048),
  /** Files in one upload request. */
  UPLOAD_MAX_FILES: z.coerce.number().int().positive().default(500),
  /** The originals of one item together. */
  ITEM_LIMIT_MB: z.coerce.number().positive().default(1024),
  /** Pages of one item (all its files): the worker refuses more, for good. */
  ITEM_MAX_PAGES: z.coerce.number().int().positive().default(1000),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15000),
  TRUST_PROXY: bool.default(false),
  /** Administrators and approvers must enrol a TOTP second factor before anything else (issue #6). */
  ARCHIVE_REQUIRE_TOTP: bool.default(false),
  /** API requests per minute per client address; 0 = no limit. Default 1200, none under NODE_ENV=test. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).optional(),
  /**
   * Audit checkpoints are anchored outside the database (#13.7): a MinIO bucket with object lock
   * in COMPLIANCE mode, every object kept unchangeable for the retention. Default bucket
   * `<MINIO_BUCKET>-audit-anchor`; credentials default to MinIO's (production: a separate user
   * allowed only s3:PutObject/GetObject/ListBucket on it, so nothing that holds them can delete).
   */
  AUDIT_ANCHOR: bool.default(true),
  AUDIT_ANCHOR_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
    .optional(),
  /** COMPLIANCE retention of each anchor, in days: it cannot be shortened or removed, by anyone, until it passes. */
  AUDIT_ANCHOR_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(3650),
  AUDIT_ANCHOR_ACCESS_KEY: z.string().min(3).optional(),
  AUDIT_ANCHOR_SECRET_KEY: z.string().min(8).optional(),
  /** Destruction approval chain (services/disposition): 鉴定小组 sign-offs needed (at least 2), 备案 step, cooling-off days. */
  ARCHIVE_DISPOSAL_SIGNOFFS: z.coerce.number().int().min(2).max(20).default(2),
  ARCHIVE_DISPOSAL_FILING: bool.default(true),
  ARCHIVE_DISPOSAL_COOLING_DAYS: z.coerce.number().min(0).max(365).default(7),
  /** Where `archive backup` writes by default: file:///path or http(s)://KEY:SECRET@host:port/bucket[/prefix] (异地存储). */
  ARCHIVE_BACKUP_TARGET: z.string().min(1).optional(),
  /** Where the keystore backup goes: a different place from ARCHIVE_BACKUP_TARGET (keys and data never together). */
  ARCHIVE_BACKUP_KEYS_TARGET: z.string().min(1).optional(),
  /** Database snapshots kept on the backup target (0 = all). */
  ARCHIVE_BACKUP_KEEP: z.coerce.number().int().min(0).default(14),
  /** Hours between periodic 四性 checks of the whole archive (DA/T 70-2018 长期保存); 0 = off. */
  ARCHIVE_FOUR_PROPERTIES_HOURS: z.coerce.number().min(0).default(24),
  /** Readiness fails when due jobs have waited this long while no job moved (a wedged worker pool). */
  ARCHIVE_WEDGED_AFTER_MS: z.coerce.number().int().min(1000).default(15 * 60_000),
  /** Clearance / classification labels, lowest first (公开,内部,敏感 by default). */
  /** Pins the retention schedule version in force (e.g. 3hao-ling-2009.v2); unset: the latest in force by date. */
  ARCHIVE_SCHEDULE_VERSION: z.string().regex(/^[a-z0-9][a-z0-9-]*\.v\d+$/, 'must be a schedule version id like 3hao-ling-2009.v2').optional(),
  ARCHIVE_CLEARANCE_LEVELS: z
    .string()
    .regex(/^[a-z_]{1,32}(,[a-z_]{1,32})*$/, 'must be comma-separated lower-case labels, lowest first')
    .default('public,internal,sensitive'),
});

export type Env = z.infer<typeof EnvSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  role: Env['ARCHIVE_ROLE'];
  http: { host: string; port: number; bodyLimitBytes: number; trustProxy: boolean; rateLimitPerMinute: number };
  /** What intake and capture accept: per file, per upload request, per item (issue #13.8). */
  intake: { fileBytes: number; requestBytes: number; requestFiles: number; itemBytes: number; itemPages: number };
  logLevel: Env['LOG_LEVEL'];
  dataDir: string;
  /** the API's control socket for `archive search` (null when off); its folder holds one socket per API process */
  controlSocket: { dir: string } | null;
  mongo: { uri: string; connectTimeoutMs: number };
  minio: {
    endPoint: string;
    port: number;
    useSSL: boolean;
    accessKey: string;
    secretKey: string;
    bucket: string;
    objectLock: 'auto' | 'require' | 'off';
    /** the executor's privileged credential, when configured */
    executor: { accessKey: string; secretKey: string } | null;
    idleTimeoutMs: number;
  };
  keystore: { dir: string; passphrase: string | undefined };
  fonds: string;
  archivalCode: { template: string; categoryCode: string };
  /** workers: recognition threads; itemsInProgress: capture jobs a worker process runs at once (itemsInProgress()). */
  ocr: { workers: number; itemsInProgress: number; tessdataDir: string | undefined };
  /** full-text search backend (services/search/backend.ts) */
  search: { backend: 'embedded' | 'opensearch'; opensearch: { url: string; index: string; shards: number; replicas: number } };
  jobs: { leaseMs: number };
  /** Scanner hot folder root (inbox/processing/done/failed); off when unset. */
  hotFolder: string | undefined;
  /** clearance labels, lowest first (services/policies.ts) */
  clearanceLevels: string[];
  /** administrators and approvers must use a TOTP second factor */
  requireTotp: boolean;
  /** where signed audit checkpoints are anchored outside the database; null when off */
  auditAnchor: { bucket: string; retentionDays: number; accessKey: string; secretKey: string } | null;
  /** the destruction approval chain (docs/disposition.md) */
  disposal: { appraisalSignoffs: number; filing: boolean; coolingOffDays: number };
  /** 移交: the local copy after the archives' receipt */
  transfer: { localCopy: 'keep' | 'destroy_after_approval' };
  /** retention schedule: a pinned version id, or undefined for the latest in force by date */
  schedule: { version: string | undefined };
  shutdownTimeoutMs: number;
  backup: { target: string | undefined; keysTarget: string | undefined; keep: number };
  /** readiness: the worker pool counts as wedged after this long without progress on due jobs */
  wedgedAfterMs: number;
  /** interval of the periodic 四性 check in ms (0 = off) */
  fourPropertiesIntervalMs: number;
}

/** Parses an environment map into a Config; throws AppError('config_invalid') listing every problem. */
/**
 * The destruction executor's credential (the only one that may lift governance retention, #11 §5).
 * Production configures its own. The embedded MinIO that scripts/services.sh starts on loopback has a
 * single account, its root user with the built-in local credential, so on embedded defaults the
 * executor is that account: otherwise an approved destruction could never run on `npm start`.
 */
function executorCredential(e: z.infer<typeof EnvSchema>, minioUrl: URL): { accessKey: string; secretKey: string } | null {
  if (e.ARCHIVE_EXECUTOR_MINIO_ACCESS_KEY && e.ARCHIVE_EXECUTOR_MINIO_SECRET_KEY) return { accessKey: e.ARCHIVE_EXECUTOR_MINIO_ACCESS_KEY, secretKey: e.ARCHIVE_EXECUTOR_MINIO_SECRET_KEY };
  if (e.ARCHIVE_EXECUTOR_DEFAULT === 'none') return null;
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(minioUrl.hostname);
  const embedded = loopback && e.MINIO_ACCESS_KEY === EMBEDDED_MINIO.accessKey && e.MINIO_SECRET_KEY === EMBEDDED_MINIO.secretKey;
  return embedded ? { ...EMBEDDED_MINIO } : null;
}

/**
 * Memory an OCR process cannot give back under pressure (MiB): without its recognition workers, and
 * per worker. Measured in a memory cgroup (bench:ocr's 48 pages, docs/benchmarks.md bench:ocr (18)):
 * two workers were killed for memory at a 448 MiB limit and read every page at 480 and 512 MiB;
 * one worker read every page at 480 MiB. (Its resident size reads higher, 515-545 MiB with two:
 * that counts the program's own file pages, which the kernel drops and reads again under a limit.)
 */
const OCR_BASE_MIB = 320;
const OCR_WORKER_MIB = 85;

/**
 * Recognition workers when OCR_WORKERS is not set: one per core, but no more than the process's
 * memory limit (a container's cgroup limit, `process.constrainedMemory()`) leaves room for, so a
 * tight container reads more slowly instead of being killed when a batch arrives. No limit, or an
 * unknown one (cgroup v2 "max" reads as ~2^64): the cores decide. Never fewer than one.
 */
export function defaultOcrWorkers(cores: number, memoryLimitBytes: number | undefined): number {
  const byCores = Math.max(1, Math.floor(cores) || 1);
  if (!memoryLimitBytes || !Number.isFinite(memoryLimitBytes) || memoryLimitBytes >= 2 ** 50) return byCores;
  const roomMib = memoryLimitBytes / 2 ** 20 - OCR_BASE_MIB;
  return Math.max(1, Math.min(byCores, Math.floor(roomMib / OCR_WORKER_MIB)));
}

/**
 * Capture jobs a worker process runs at once: one per recognition worker, but three with a single
 * one. Recognition is about half of a page's CPU; the rest (preparing the page, its PDF, filing,
 * indexing) runs on the main thread and libvips'. With one recogniser and one item at a time each
 * waited for the other: bench:ocr's 48 pages took 46.5-60 s; with two more items preparing and
 * filing while it reads, 33-36 s, ~15 MB more at the peak (docs/benchmarks.md bench:ocr (20)).
 * With two or more recognisers an extra item gained nothing measurable and cost ~25 MB (bench:ocr (10)).
 */
export function itemsInProgress(ocrWorkers: number): number {
  return ocrWorkers === 1 ? 3 : ocrWorkers;
}

export function parseConfig(source: Record<string, string | undefined>): Config {
  // Empty strings count as unset, as a shell `FOO=` line usually means.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new AppError('config_invalid', {
      message: `Invalid configuration:\n  ${problems.join('\n  ')}`,
      zh: `配置不正确：\n  ${problems.join('\n  ')}`,
      details: { problems },
    });
  }
  const e = result.data;
  if (e.NODE_ENV === 'production' && !e.ARCHIVE_KEYSTORE_PASSPHRASE) {
    throw new AppError('config_invalid', {
      message: 'Invalid configuration:\n  ARCHIVE_KEYSTORE_PASSPHRASE: required in production (the embedded keystore passphrase file is for local use only)',
      details: { problems: ['ARCHIVE_KEYSTORE_PASSPHRASE: required in production'] },
    });
  }
  const minioUrl = new URL(e.MINIO_ENDPOINT ?? `http://127.0.0.1:${e.ARCHIVE_MINIO_PORT}`);
  const useSSL = minioUrl.protocol === 'https:';
  const ocrWorkers = e.OCR_WORKERS ?? defaultOcrWorkers(os.availableParallelism(), process.constrainedMemory?.());
  return Object.freeze({
    env: e.NODE_ENV,
    role: e.ARCHIVE_ROLE,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimitBytes: Math.round(e.BODY_LIMIT_MB * 1024 * 1024),
      trustProxy: e.TRUST_PROXY,
      rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE ?? (e.NODE_ENV === 'test' ? 0 : 1200),
    },
    intake: {
      fileBytes: Math.round(e.UPLOAD_LIMIT_MB * 1024 * 1024),
      requestBytes: Math.round(e.UPLOAD_REQUEST_LIMIT_MB * 1024 * 1024),
      requestFiles: e.UPLOAD_MAX_FILES,
      itemBytes: Math.round(e.ITEM_LIMIT_MB * 1024 * 1024),
      itemPages: e.ITEM_MAX_PAGES,
    },
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.ARCHIVE_DATA_DIR),
    controlSocket: e.ARCHIVE_CONTROL_SOCKET ? { dir: path.resolve(e.ARCHIVE_CONTROL_SOCKET_DIR ?? path.join(e.ARCHIVE_DATA_DIR, 'run', 'control')) } : null,
    mongo: { uri: e.MONGODB_URI ?? `mongodb://127.0.0.1:${e.ARCHIVE_MONGO_PORT}/archive`, connectTimeoutMs: e.MONGODB_CONNECT_TIMEOUT_MS },
    minio: {
      endPoint: minioUrl.hostname,
      port: minioUrl.port ? Number(minioUrl.port) : useSSL ? 443 : 80,
      useSSL,
      accessKey: e.MINIO_ACCESS_KEY,
      secretKey: e.MINIO_SECRET_KEY,
      bucket: e.MINIO_BUCKET,
      objectLock: e.ARCHIVE_OBJECT_LOCK,
      executor: executorCredential(e, minioUrl),
      idleTimeoutMs: e.MINIO_IDLE_TIMEOUT_MS,
    },
    keystore: {
      dir: path.resolve(e.ARCHIVE_KEYSTORE_DIR ?? path.join(e.ARCHIVE_DATA_DIR, 'keys')),
      passphrase: e.ARCHIVE_KEYSTORE_PASSPHRASE,
    },
    fonds: e.ARCHIVE_FONDS,
    archivalCode: { template: e.ARCHIVAL_CODE_TEMPLATE, categoryCode: e.ARCHIVE_CATEGORY_CODE },
    ocr: { workers: ocrWorkers, itemsInProgress: itemsInProgress(ocrWorkers), tessdataDir: e.TESSDATA_DIR },
    search: {
      backend: e.ARCHIVE_SEARCH_BACKEND,
      opensearch: { url: (e.OPENSEARCH_URL ?? `http://127.0.0.1:${e.ARCHIVE_OPENSEARCH_PORT}`).replace(/\/+$/, ''), index: e.OPENSEARCH_INDEX, shards: e.OPENSEARCH_SHARDS, replicas: e.OPENSEARCH_REPLICAS },
    },
    jobs: { leaseMs: e.JOB_LEASE_MS },
    hotFolder: e.ARCHIVE_HOTFOLDER ? path.resolve(e.ARCHIVE_HOTFOLDER) : undefined,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    clearanceLevels: e.ARCHIVE_CLEARANCE_LEVELS.split(','),
    requireTotp: e.ARCHIVE_REQUIRE_TOTP,
    backup: { target: e.ARCHIVE_BACKUP_TARGET, keysTarget: e.ARCHIVE_BACKUP_KEYS_TARGET, keep: e.ARCHIVE_BACKUP_KEEP },
    wedgedAfterMs: e.ARCHIVE_WEDGED_AFTER_MS,
    auditAnchor: e.AUDIT_ANCHOR
      ? {
          bucket: e.AUDIT_ANCHOR_BUCKET ?? `${e.MINIO_BUCKET.slice(0, 50)}-audit-anchor`,
          retentionDays: e.AUDIT_ANCHOR_RETENTION_DAYS,
          accessKey: e.AUDIT_ANCHOR_ACCESS_KEY ?? e.MINIO_ACCESS_KEY,
          secretKey: e.AUDIT_ANCHOR_SECRET_KEY ?? e.MINIO_SECRET_KEY,
        }
      : null,
    disposal: { appraisalSignoffs: e.ARCHIVE_DISPOSAL_SIGNOFFS, filing: e.ARCHIVE_DISPOSAL_FILING, coolingOffDays: e.ARCHIVE_DISPOSAL_COOLING_DAYS },
    schedule: { version: e.ARCHIVE_SCHEDULE_VERSION },
    transfer: { localCopy: e.ARCHIVE_TRANSFER_LOCAL_COPY },
    fourPropertiesIntervalMs: Math.round(e.ARCHIVE_FOUR_PROPERTIES_HOURS * 3600_000),
  });
}

let cached: { fingerprint: string; config: Config } | undefined;

/** Loads `.env` (if present, without overriding real env vars) and parses process.env once. */
export function loadConfig(overrides: Record<string, string | undefined> = {}): Config {
  // Cached per environment: a process that changes its environment (tests running the CLI in
  // process, one archive after another) must not keep the first archive's settings.
  const fingerprint = JSON.stringify(process.env);
  if (cached && cached.fingerprint === fingerprint && Object.keys(overrides).length === 0) return cached.config;
  const envFile = path.join(REPO_ROOT, '.env');
  const fromFile: Record<string, string> = {};
  if (fs.existsSync(envFile)) {
    for (const line of fs.readFileSync(envFile, 'utf8').split(/\r?\n/)) {
      const m = /^\s*([A-Z_][A-Z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
      if (m && m[1] && m[2] !== undefined) fromFile[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
    }
  }
  const config = parseConfig({ ...fromFile, ...process.env, ...overrides });
  if (Object.keys(overrides).length === 0) cached = { fingerprint, config };
  return config;
}

/** The CLI's identity, read here because only this module touches process.env. */
export function cliUserFromEnv(): string | undefined {
  return process.env.ARCHIVE_USER || undefined;
}
