/**
 * The API process's side of the control socket (cli/control-socket.ts has the protocol and the
 * client): `archive search` asks here, and gets what it would have printed had it searched in its
 * own process, checked and audited the same way (identity.runAsCliAccount + search-run.cliSearchLines).
 *
 * Who may connect: the socket is 0600 in a 0700 folder, so the OS account that runs the archive.
 * That account can read the database credentials and so run any CLI command as any account
 * (--as) already: the socket gives it nothing new, only a warm index. Several API processes on
 * one data folder each listen on their own socket; a client tries them newest first.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { isAppError } from '../errors';
import type { Runtime } from '../runtime';
import { searchIndexReady } from '../services/search';
import { cliSearchLines } from './commands/search-run';
import { parseSearchOptions, searchCommand } from './commands/search';
import { archiveIdentity, CONTROL_MAX_BYTES, CONTROL_PROTOCOL, controlSocketName, controlSockets, UNIX_PATH_MAX, type CliSearchOptions, type ControlAnswer, type ControlRequest } from './control-socket';
import { runAsCliAccount } from './identity';
import { cliInvocation, type CliInvocation } from './invocation';

/** How long a request waits for an index that is still loading before the client is sent to search by itself. */
const LOADING_WAIT_MS = 250;
/** How long a connection may take to send its request. */
const REQUEST_TIMEOUT_MS = 10_000;

export interface ControlSocketServer {
  path: string;
  /** searches answered (ok or refused); declined requests not counted */
  readonly answered: number;
  close: () => Promise<void>;
}

/**
 * Listens on a fresh socket in the run folder after removing the stale sockets there (nobody
 * listening: a process that died). Null (and a warning) when the folder cannot be made private or
 * the path is too long for a Unix socket: the command line then searches by itself, as before.
 */
export async function startControlSocket(rt: Runtime): Promise<ControlSocketServer | null> {
  const dir = rt.config.controlSocket?.dir;
  if (!dir) return null;
  const socketPath = path.join(dir, controlSocketName(randomBytes(4).toString('hex')));
  if (Buffer.byteLength(socketPath) > UNIX_PATH_MAX) {
    rt.logger.warn({ path: socketPath }, 'control socket path too long for a Unix socket; `archive search` will load the index itself (set ARCHIVE_CONTROL_SOCKET_DIR shorter)');
    return null;
  }
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
  } catch (err) {
    rt.logger.warn({ err, dir }, 'control socket folder cannot be made private; no control socket');
    return null;
  }
  await removeStaleSockets(dir);
  let answered = 0;
  // allowHalfOpen: the client ends its side after the request; the answer still has to go back.
  const server = net.createServer({ allowHalfOpen: true }, (conn) => {
    conn.on('error', () => undefined);
    // A client that never finishes its request is cut off (the answer timeout is its own side's).
    conn.setTimeout(REQUEST_TIMEOUT_MS, () => conn.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    conn.on('data', (b: Buffer) => {
      size += b.length;
      if (size > CONTROL_MAX_BYTES) {
        conn.destroy();
        return;
      }
      chunks.push(b);
    });
    conn.once('end', () => {
      const t0 = performance.now();
      conn.setTimeout(0);
      void answer(rt, Buffer.concat(chunks).toString('utf8'))
        .catch((err: unknown) => {
          // (e.g. the index key unreadable): the command line searches by itself and says what is wrong
          rt.logger.warn({ err }, 'control socket: could not take the request');
          return declined('failed');
        })
        .then((a) => {
          if (a.status !== 'declined') answered++;
          rt.logger.info({ op: 'search', status: a.status, ...(a.status === 'declined' ? { reason: a.reason } : a.status === 'error' ? { code: a.error.code } : {}), ms: Math.round((performance.now() - t0) * 10) / 10 }, 'control socket request');
          if (!conn.destroyed) conn.end(`${JSON.stringify(a)}\n`);
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => rt.logger.warn({ err }, 'control socket error'));
  fs.chmodSync(socketPath, 0o600);
  const unlink = () => {
    try {
      fs.unlinkSync(socketPath);
    } catch {
      // gone already
    }
  };
  // A process that exits without shutting down (process.exit) leaves no socket behind either.
  process.once('exit', unlink);
  rt.logger.info({ path: socketPath }, 'control socket listening');
  let closing: Promise<void> | undefined;
  return {
    path: socketPath,
    get answered() {
      return answered;
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        process.off('exit', unlink);
        server.close(() => resolve());
        unlink();
      })),
  };
}

/** Removes the sockets in the folder that nobody listens on any more. */
async function removeStaleSockets(dir: string): Promise<void> {
  await Promise.all(
    controlSockets(dir).map(async (p) => {
      const live = await new Promise<boolean>((resolve) => {
        const s = net.createConnection({ path: p });
        const t = setTimeout(() => {
          s.destroy();
          resolve(true); // slow to accept is not dead
        }, 500);
        s.once('connect', () => {
          clearTimeout(t);
          s.destroy();
          resolve(true);
        });
        s.once('error', (err: NodeJS.ErrnoException) => {
          clearTimeout(t);
          resolve(err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT' && err.code !== 'ENOTSOCK');
        });
      });
      if (!live) fs.rmSync(p, { force: true });
    }),
  );
}

const declined = (reason: string): ControlAnswer => ({ v: CONTROL_PROTOCOL, status: 'declined', reason });

function readRequest(text: string): ControlRequest | null {
  try {
    const r = JSON.parse(text) as ControlRequest;
    const s = r?.search as Partial<CliSearchOptions> | undefined;
    if (r?.v !== CONTROL_PROTOCOL || r.op !== 'search' || typeof r.archive !== 'string' || (r.user !== null && typeof r.user !== 'string') || typeof s?.q !== 'string') return null;
    // The command line's own parser, so a request meets the same rules (limit, sort, a valid
    // 公民身份号码) whoever sent it; a refusal there is a request this side cannot take.
    const search = parseSearchOptions({ limit: String(s.limit), sort: s.sort, json: s.json === true, ...(typeof s.personId === 'string' ? { person: s.personId } : {}) }, [s.q]);
    return { ...r, search };
  } catch {
    return null;
  }
}

async function answer(rt: Runtime, text: string): Promise<ControlAnswer> {
  const req = readRequest(text);
  if (!req) return declined('bad_request');
  if (req.archive !== archiveIdentity(rt.config)) return declined('other_archive');
  // Before the account is checked and audited: a client sent away searches (and audits) by itself.
  if (!(await searchIndexReady(rt, LOADING_WAIT_MS))) return declined('index_loading');
  const inv: CliInvocation = { command: 'archive search', permission: searchCommand.permission };
  try {
    const lines = await cliInvocation.run(inv, () => runAsCliAccount(rt, inv, req.user ?? undefined, (me) => cliSearchLines(rt, me, req.search)));
    return { v: CONTROL_PROTOCOL, status: 'ok', lines };
  } catch (err) {
    if (isAppError(err)) return { v: CONTROL_PROTOCOL, status: 'error', error: { code: err.code, message: err.message, zh: err.zh, ...(err.details ? { details: err.details } : {}) } };
    rt.logger.error({ err }, 'control socket: archive search failed');
    return { v: CONTROL_PROTOCOL, status: 'error', error: { code: 'internal_error', message: err instanceof Error ? err.message : String(err) } };
  }
}
