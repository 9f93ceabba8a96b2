/**
 * A private FerretDB + MinIO pair (or a lone MinIO) on free loopback ports with its own data
 * folder: for specs that destroy services (restore drill, fault injection) without touching the
 * shared test services other specs use.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, MINIO_CREDENTIALS } from './services';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PrivateServices {
  dataDir: string;
  mongoPort: number;
  minioPort: number;
  consolePort: number;
  env(): Record<string, string>;
  mongoUri(db?: string): string;
  minioUrl(): string;
  services(cmd: string): void;
  down(): void;
  /** stops the services and deletes their data folders */
  destroy(): void;
}

export async function startPrivateServices(name: string, opts: { minioOnly?: boolean } = {}): Promise<PrivateServices> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `archive-${name}-`));
  const [mongoPort, minioPort, consolePort] = [await freePort(), await freePort(), await freePort()];
  const env = () => ({ ARCHIVE_DATA_DIR: dataDir, ARCHIVE_MONGO_PORT: String(mongoPort), ARCHIVE_MINIO_PORT: String(minioPort), ARCHIVE_MINIO_CONSOLE_PORT: String(consolePort) });
  const services = (cmd: string) => {
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts/services.sh'), cmd], { env: { ...process.env, ...env() }, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  services(opts.minioOnly ? 'start-minio' : 'up');
  const self: PrivateServices = {
    dataDir,
    mongoPort,
    minioPort,
    consolePort,
    env,
    mongoUri: (db = 'archive') => `mongodb://127.0.0.1:${mongoPort}/${db}`,
    minioUrl: () => `http://127.0.0.1:${minioPort}`,
    services,
    down: () => services('down'),
    destroy: () => {
      try {
        services('down');
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
  return self;
}

/** Environment for an app Runtime on private services (its own data folder and keystore). */
export function appEnvFor(s: PrivateServices, appDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    MONGODB_URI: s.mongoUri(),
    MINIO_ENDPOINT: s.minioUrl(),
    MINIO_ACCESS_KEY: MINIO_CREDENTIALS.accessKey,
    MINIO_SECRET_KEY: MINIO_CREDENTIALS.secretKey,
    MINIO_BUCKET: 'archive',
    ARCHIVE_DATA_DIR: appDir,
    ARCHIVE_KEYSTORE_DIR: path.join(appDir, 'keys'),
    ARCHIVE_KEYSTORE_PASSPHRASE: 'drill-keystore-passphrase',
    OCR_WORKERS: '1',
    LOG_LEVEL: 'silent',
    ...extra,
  };
}
