/**
 * Where backups go: a local directory (`file:///srv/backup` or an absolute path) or a second
 * MinIO/S3 bucket elsewhere (异地存储), named by URL: `http(s)://ACCESS:SECRET@host:port/bucket[/prefix]`.
 * Both look the same to the backup: put / get / list / remove of named objects.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
// The mirror copies objects as stored (ciphertext), below the blob store's encryption, to a second
// object store: BlobStore (storage/) decrypts by design, so this one client talks to MinIO directly.
// eslint-disable-next-line no-restricted-imports
import * as Minio from 'minio';
import { AppError } from '../../errors';

export interface TargetEntry {
  name: string;
  size: number;
  /** change marker (S3 ETag, or size+mtime for a directory) */
  etag: string;
}

export interface BackupTarget {
  /** the URL without its secret, for reports and the audit trail */
  readonly label: string;
  put(name: string, body: Buffer | Readable, size?: number): Promise<void>;
  get(name: string): Promise<Readable | null>;
  list(prefix: string): AsyncIterable<TargetEntry>;
  remove(name: string): Promise<void>;
}

function badUrl(url: string, why: string): AppError {
  return new AppError('validation_failed', {
    message: `Backup location ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: ${why}. Use file:///path or http(s)://ACCESS:SECRET@host:port/bucket[/prefix]`,
    zh: `备份位置不正确：${why}。请使用 file:///路径 或 http(s)://ACCESS:SECRET@主机:端口/桶[/前缀]`,
  });
}

class DirTarget implements BackupTarget {
  constructor(readonly root: string) {}
  get label(): string {
    return `file://${this.root}`;
  }
  private file(name: string): string {
    const f = path.resolve(this.root, name);
    if (!f.startsWith(this.root + path.sep)) throw new AppError('validation_failed', { message: `bad object name ${name}` });
    return f;
  }
  async put(name: string, body: Buffer | Readable): Promise<void> {
    const f = this.file(name);
    await fs.promises.mkdir(path.dirname(f), { recursive: true });
    const tmp = `${f}.part`;
    if (Buffer.isBuffer(body)) await fs.promises.writeFile(tmp, body);
    else await pipeline(body, fs.createWriteStream(tmp));
    await fs.promises.rename(tmp, f);
  }
  async get(name: string): Promise<Readable | null> {
    const f = this.file(name);
    try {
      await fs.promises.access(f);
    } catch {
      return null;
    }
    return fs.createReadStream(f);
  }
  async *list(prefix: string): AsyncIterable<TargetEntry> {
    const start = path.join(this.root, prefix);
    const walk = async function* (dir: string, root: string): AsyncIterable<TargetEntry> {
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) yield* walk(full, root);
        else if (e.isFile() && !e.name.endsWith('.part')) {
          const st = await fs.promises.stat(full);
          yield { name: path.relative(root, full).split(path.sep).join('/'), size: st.size, etag: `${st.size}-${st.mtimeMs}` };
        }
      }
    };
    const dir = prefix.endsWith('/') ? start : path.dirname(start);
    for await (const e of walk(dir, this.root)) if (e.name.startsWith(prefix)) yield e;
  }
  async remove(name: string): Promise<void> {
    await fs.promises.rm(this.file(name), { force: true });
  }
}

class S3Target implements BackupTarget {
  constructor(
    private readonly client: Minio.Client,
    private readonly bucket: string,
    private readonly prefix: string,
    readonly label: string,
  ) {}
  async ensure(): Promise<void> {
    if (!(await this.client.bucketExists(this.bucket))) {
      await this.client.makeBucket(this.bucket).catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'BucketAlreadyOwnedByYou') throw err;
      });
    }
  }
  async put(name: string, body: Buffer | Readable, size?: number): Promise<void> {
    await this.client.putObject(this.bucket, this.prefix + name, body, Buffer.isBuffer(body) ? body.length : size);
  }
  async get(name: string): Promise<Readable | null> {
    try {
      return await this.client.getObject(this.bucket, this.prefix + name);
    } catch (err) {
      if (['NoSuchKey', 'NotFound'].includes((err as { code?: string }).code ?? '')) return null;
      throw err;
    }
  }
  async *list(prefix: string): AsyncIterable<TargetEntry> {
    for await (const it of this.client.listObjectsV2(this.bucket, this.prefix + prefix, true) as AsyncIterable<{ name?: string; size?: number; etag?: string }>) {
      if (it.name) yield { name: it.name.slice(this.prefix.length), size: it.size ?? 0, etag: it.etag ?? '' };
    }
  }
  async remove(name: string): Promise<void> {
    await this.client.removeObject(this.bucket, this.prefix + name);
  }
}

/** Opens a backup location by URL (creating the bucket or directory when missing). */
export async function openTarget(url: string): Promise<BackupTarget> {
  if (url.startsWith('/') || url.startsWith('file://')) {
    const dir = path.resolve(url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url);
    await fs.promises.mkdir(dir, { recursive: true });
    return new DirTarget(dir);
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url, 'not a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badUrl(url, `unsupported scheme ${u.protocol}`);
  const [bucket, ...rest] = u.pathname.replace(/^\/+/, '').split('/');
  if (!bucket) throw badUrl(url, 'no bucket in the path');
  if (!u.username || !u.password) throw badUrl(url, 'no access key and secret');
  const useSSL = u.protocol === 'https:';
  const client = new Minio.Client({
    endPoint: u.hostname,
    port: u.port ? Number(u.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: decodeURIComponent(u.username),
    secretKey: decodeURIComponent(u.password),
  });
  const prefix = rest.filter(Boolean).join('/');
  const target = new S3Target(client, bucket, prefix ? `${prefix}/` : '', `${u.protocol}//${u.host}/${bucket}${prefix ? `/${prefix}` : ''}`);
  try {
    await target.ensure();
  } catch (err) {
    throw new AppError('service_unavailable', { message: `Backup target ${target.label} is not reachable: ${(err as Error).message}`, zh: `无法连接备份位置 ${target.label}`, cause: err });
  }
  return target;
}

/** The archive's own bucket, read and written raw (ciphertext as stored) by backup and restore. */
export function rawBucket(minio: { endPoint: string; port: number; useSSL: boolean; accessKey: string; secretKey: string; bucket: string }): S3Target & { ensure(): Promise<void> } {
  const client = new Minio.Client({ endPoint: minio.endPoint, port: minio.port, useSSL: minio.useSSL, accessKey: minio.accessKey, secretKey: minio.secretKey });
  return new S3Target(client, minio.bucket, '', `${minio.useSSL ? 'https' : 'http'}://${minio.endPoint}:${minio.port}/${minio.bucket}`);
}
