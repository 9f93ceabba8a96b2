/**
 * The API's control socket: its protocol, where the sockets live, and the client that `archive
 * search` runs before anything heavy is loaded (docs/ARCHITECTURE.md, "The control socket").
 *
 * Each API process listens on its own Unix socket `api-<pid>-<random>.sock` in the run folder
 * (ARCHIVE_CONTROL_SOCKET_DIR, default <ARCHIVE_DATA_DIR>/run/control; the folder 0700 and the socket 0600, so only
 * the OS account that runs the archive, which can read the database credentials anyway, may
 * connect). One JSON request and one JSON answer per connection. The client tries the sockets,
 * newest first; none there, a stale one (refused, gone), an API whose index is still loading or
 * which serves another archive: it answers null, and the command searches in its own process.
 *
 * This module is loaded by the command line before it decides how to search: node built-ins and
 * types only (test/unit/cli/control-socket-client.spec.ts keeps it so).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Config } from '../config';

export const CONTROL_PROTOCOL = 1;
const SOCKET_NAME = /^api-\d+-[0-9a-f]+\.sock$/;
/** The most a request or an answer may be (an answer carries at most 1000 hits' lines). */
export const CONTROL_MAX_BYTES = 16 << 20;
/** A Unix socket path longer than this cannot be bound (sun_path is 108 bytes on Linux). */
export const UNIX_PATH_MAX = 107;

/** The search options `archive search` parsed: what the in-process path and the socket both run. */
export interface CliSearchOptions {
  q: string;
  limit: number;
  sort: 'relevance' | 'date';
  personId?: string;
  json: boolean;
}

export interface ControlRequest {
  v: typeof CONTROL_PROTOCOL;
  op: 'search';
  /** archiveIdentity of the client's configuration: an API serving another archive declines */
  archive: string;
  /** requestedCliUser on the client's side (--as, else ARCHIVE_USER); null = the local operator */
  user: string | null;
  search: CliSearchOptions;
}

export interface ControlError {
  code: string;
  message: string;
  zh?: string;
  details?: Record<string, unknown>;
}

export type ControlAnswer =
  | { v: typeof CONTROL_PROTOCOL; status: 'ok'; lines: string[] }
  | { v: typeof CONTROL_PROTOCOL; status: 'error'; error: ControlError }
  /** the client searches by itself: index still loading, another archive, a request it cannot read */
  | { v: typeof CONTROL_PROTOCOL; status: 'declined'; reason: string };

/**
 * Which archive a configuration points at: the database, the object store, the search backend
 * and the clearance labels (a hash, so no credential in a URI travels over the socket).
 */
export function archiveIdentity(config: Config): string {
  // OpenSearch's address counts only where it is the backend: with the embedded engine a stray
  // ARCHIVE_OPENSEARCH_PORT in one shell (the test suite exports one) is not another archive.
  const search = config.search.backend === 'opensearch' ? [config.search.opensearch.url, config.search.opensearch.index] : [];
  const parts = [config.mongo.uri, config.minio.endPoint, config.minio.port, config.minio.bucket, config.search.backend, ...search, config.clearanceLevels.join(',')];
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The socket files in the run folder, newest first. */
export function controlSockets(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => SOCKET_NAME.test(n));
  } catch {
    return [];
  }
  const withTime = names.map((n) => {
    const p = path.join(dir, n);
    try {
      return { p, t: fs.lstatSync(p).mtimeMs };
    } catch {
      return { p, t: 0 };
    }
  });
  return withTime.sort((a, b) => b.t - a.t).map((x) => x.p);
}

/** The name this process's socket gets. */
export function controlSocketName(random: string): string {
  return `api-${process.pid}-${random}.sock`;
}

export interface AskOptions {
  /** connecting to a socket (a local one accepts at once, or refuses) */
  connectTimeoutMs?: number;
  /** the answer, once connected; past it the client searches by itself */
  answerTimeoutMs?: number;
}

/**
 * Sends one request to one socket and reads its answer. Null when there is nobody to ask there
 * (refused, gone, timed out, cut off, an answer it cannot read).
 */
export function askSocket(socketPath: string, request: unknown, opts: AskOptions = {}): Promise<ControlAnswer | null> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 300;
  const answerTimeoutMs = opts.answerTimeoutMs ?? 60_000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (answer: ControlAnswer | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(answer);
    };
    const sock = net.createConnection({ path: socketPath });
    let timer = setTimeout(() => finish(null), connectTimeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(null), answerTimeoutMs);
      sock.end(`${JSON.stringify(request)}\n`);
    });
    sock.on('data', (b: Buffer) => {
      size += b.length;
      if (size > CONTROL_MAX_BYTES) return finish(null);
      chunks.push(b);
    });
    sock.once('end', () => finish(parseAnswer(Buffer.concat(chunks).toString('utf8'))));
    sock.once('error', () => finish(null));
    sock.once('close', () => finish(parseAnswer(Buffer.concat(chunks).toString('utf8'))));
  });
}

function parseAnswer(text: string): ControlAnswer | null {
  try {
    const a = JSON.parse(text) as ControlAnswer;
    if (a?.v !== CONTROL_PROTOCOL) return null;
    if (a.status === 'ok' && Array.isArray(a.lines) && a.lines.every((l) => typeof l === 'string')) return a;
    if (a.status === 'error' && typeof a.error?.code === 'string' && typeof a.error.message === 'string') return a;
    if (a.status === 'declined') return a;
    return null;
  } catch {
    return null;
  }
}

/**
 * Asks the API processes of this archive to run `archive search`: the first that answers ok or
 * with an error decides; null when none can (the command then searches in its own process).
 */
export async function askApiToSearch(config: Config, user: string | undefined, search: CliSearchOptions, opts: AskOptions = {}): Promise<ControlAnswer | null> {
  if (!config.controlSocket) return null;
  const request: ControlRequest = { v: CONTROL_PROTOCOL, op: 'search', archive: archiveIdentity(config), user: user ?? null, search };
  for (const p of controlSockets(config.controlSocket.dir)) {
    const answer = await askSocket(p, request, opts);
    if (answer && answer.status !== 'declined') return answer;
  }
  return null;
}
