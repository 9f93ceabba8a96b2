/**
 * One object GET over plain HTTP/1.1 that reads the socket into a single buffer it reuses: the
 * read path of large encrypted objects (blob-store.ts, TransientDecryptReader).
 *
 * Why not the MinIO client: Node's HTTP client hands over every socket read (64 KiB) as a new
 * buffer. A get that also decrypts allocates the plaintext too, twice the memory churn of a plain
 * get, and the collections it triggers ("external memory pressure") cost more CPU than AES-GCM
 * itself: encrypted gets ran at 0.55x of plain MinIO gets on the 2-core reference machine. Read
 * into one 1 MiB buffer instead, the only allocation per segment is its plaintext, as in a plain
 * get (docs/benchmarks.md, bench:storage 2026-12-03 morning).
 *
 * The request is a presigned URL the MinIO client signed (this file does no S3 signing); a Range
 * header, unsigned, narrows it. The answer must be 200 (206 for a range) with a Content-Length;
 * anything else becomes an error carrying S3's <Code>, so the backend maps it as it maps the
 * client's. A connection that carries no byte for `idleMs` is cut with ETIMEDOUT (as stall-guard.ts
 * does for the client). Plain HTTP only: with TLS the store keeps the client's path.
 */
import net from 'node:net';
import type { TransientSource } from './envelope';

export interface DirectGetOptions {
  url: string;
  range?: { offset: number; length: number };
  idleMs: number;
  /** Body bytes to have in hand before the GET resolves, returned as a copy (the stored header). */
  prefix: number;
  bufferSize?: number;
}

export interface DirectGet {
  source: TransientSource;
  /** The first `prefix` bytes of the body (fewer if it is shorter); they are delivered again by the source. */
  prefix: Buffer;
}

const MAX_HEAD = 16 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const READ_BUFFER = 1024 * 1024;
/** The response head is read into a buffer this small; the body's buffer is sized once Content-Length is known. */
const HEAD_BUFFER = 16 * 1024;
/**
 * 1 MiB read buffers of finished GETs, for the next large ones. A buffer comes back only once its
 * socket has closed, when no read can land in it any more; readers have copied out whatever they
 * kept by then. A body smaller than that gets a buffer of its own size: two hundred concurrent page
 * images must not hold 1 MiB each.
 */
const spare: Buffer[] = [];
const SPARE_MAX = 4;

function failure(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The S3 error code and message of an error answer's XML body. */
function s3Error(status: number, body: string): Error {
  const field = (tag: string): string | undefined => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body)?.[1];
  const code = field('Code') ?? (status === 404 ? 'NotFound' : status === 503 ? 'ServiceUnavailable' : `HTTP${status}`);
  return failure(field('Message') ?? `object storage answered ${status}`, code);
}

class DirectGetSource implements TransientSource {
  private readonly socket: net.Socket;
  /** Where the next read lands (net.connect calls `readBuffer` before every read). */
  private buffer: Buffer | null = null;
  private forBody = false;
  private pooled = false;
  private head: Buffer[] = [];
  private headBytes = 0;
  private status = 0;
  private contentLength = -1;
  private received = 0;
  private errorBody: Buffer[] = [];
  /** Body bytes read before start(): copies, handed over first. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private sink: Parameters<TransientSource['start']>[0] | null = null;
  private settled = false;
  /** Set once the body is complete, the GET failed or the reader let go: nothing more is reported. */
  private finished = false;
  private error: Error | null = null;
  /** The reader asked for a pause (its buffer is full) and has not read on since. */
  private held = false;

  constructor(
    private readonly o: DirectGetOptions,
    private readonly opened: { resolve(g: DirectGet): void; reject(err: Error): void },
  ) {
    const u = new URL(o.url);
    this.socket = net.connect({
      host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: Number(u.port || 80),
      onread: { buffer: () => this.readBuffer(), callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer) },
    } as net.NetConnectOpts);
    this.socket.setNoDelay(true);
    this.socket.setTimeout(o.idleMs, () => this.fail(failure(`object storage sent nothing for ${o.idleMs} ms`, 'ETIMEDOUT')));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      if (this.pooled && this.buffer && spare.length < SPARE_MAX) spare.push(this.buffer);
      this.buffer = null;
      if (this.finished) return;
      if (this.status !== 0 && !this.isSuccess()) this.answerError();
      else this.fail(failure(`object storage closed the connection after ${this.received} of ${this.contentLength < 0 ? '?' : this.contentLength} bytes`, 'ECONNRESET'));
    });
    const range = o.range ? `Range: bytes=${o.range.offset}-${o.range.offset + o.range.length - 1}\r\n` : '';
    this.socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\n${range}Connection: close\r\n\r\n`);
  }

  start(sink: Parameters<TransientSource['start']>[0]): void {
    this.sink = sink;
    const pending = this.pending;
    this.pending = [];
    for (const b of pending) sink.data(b);
    if (this.error) sink.error(this.error);
    else if (this.finished) sink.end();
    else if (!this.held) this.socket.resume(); // paused since the prefix was in
  }

  pause(): void {
    this.held = true;
    this.socket.pause();
  }

  resume(): void {
    this.held = false;
    if (this.sink) this.socket.resume();
  }

  destroy(): void {
    this.finished = true;
    this.socket.destroy();
  }

  /** A small buffer for the head; for the body one sized to what is left of it, up to READ_BUFFER (pooled at that size). */
  private readBuffer(): Buffer {
    if (this.status === 0) return (this.buffer ??= Buffer.allocUnsafeSlow(HEAD_BUFFER));
    if (this.forBody) return this.buffer!;
    this.forBody = true;
    const size = this.o.bufferSize ?? READ_BUFFER;
    const left = this.contentLength - this.received;
    if (this.o.bufferSize === undefined && left >= READ_BUFFER) {
      this.buffer = spare.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER);
      this.pooled = true;
    } else {
      this.buffer = Buffer.allocUnsafeSlow(Math.max(HEAD_BUFFER, Math.min(size, left > 0 ? left : HEAD_BUFFER)));
    }
    return this.buffer;
  }

  private onRead(n: number, buf: Buffer): boolean {
    if (this.finished) return false;
    let chunk = buf.subarray(0, n);
    if (this.status === 0) {
      chunk = this.readHead(chunk);
      if (this.status === 0 || this.finished) return true;
    }
    if (!this.isSuccess()) {
      this.errorBody.push(Buffer.from(chunk));
      this.received += chunk.length;
      if (this.received >= Math.min(this.contentLength < 0 ? MAX_ERROR_BODY : this.contentLength, MAX_ERROR_BODY)) this.answerError();
      return true;
    }
    if (chunk.length > this.contentLength - this.received) chunk = chunk.subarray(0, this.contentLength - this.received);
    this.received += chunk.length;
    if (this.received === this.contentLength) {
      this.finished = true;
      this.socket.destroy();
    }
    if (this.sink) {
      this.sink.data(chunk);
      if (this.finished) this.sink.end();
      return true;
    }
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= this.o.prefix || this.finished) {
      this.resolve();
      return false; // paused until start()
    }
    return true;
  }

  /** Gathers the status line and headers; returns the body bytes that followed them in this read. */
  private readHead(chunk: Buffer): Buffer {
    this.head.push(Buffer.from(chunk));
    this.headBytes += chunk.length;
    const all = Buffer.concat(this.head, this.headBytes);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.headBytes > MAX_HEAD) this.fail(failure('object storage sent an oversized response head', 'EPROTO'));
      return Buffer.alloc(0);
    }
    this.head = [];
    const lines = all.subarray(0, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) {
      this.fail(failure(`object storage sent an unreadable status line: ${(lines[0] ?? '').slice(0, 80)}`, 'EPROTO'));
      return Buffer.alloc(0);
    }
    let chunked = false;
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      if (name === 'content-length') this.contentLength = Number(value);
      else if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') chunked = true;
    }
    this.status = Number(m[1]);
    const ok = this.status === (this.o.range ? 206 : 200);
    if (ok && (chunked || !Number.isSafeInteger(this.contentLength) || this.contentLength < 0)) {
      this.fail(failure('object storage answered without a Content-Length', 'EPROTO'));
      return Buffer.alloc(0);
    }
    if (!ok && this.status >= 200 && this.status < 300) {
      this.fail(failure(`object storage answered ${this.status} to a ${this.o.range ? 'ranged ' : ''}GET`, 'EPROTO'));
      return Buffer.alloc(0);
    }
    const body = all.subarray(end + 4);
    if (!ok && (this.contentLength === 0 || (this.contentLength > 0 && body.length >= this.contentLength))) {
      this.errorBody.push(body);
      this.answerError();
      return Buffer.alloc(0);
    }
    if (ok && this.contentLength === 0) {
      this.finished = true;
      this.socket.destroy();
      this.resolve();
    }
    return body;
  }

  private isSuccess(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  private answerError(): void {
    const body = Buffer.concat(this.errorBody).toString('utf8');
    this.fail(s3Error(this.status, body));
  }

  private resolve(): void {
    if (this.settled) return;
    this.settled = true;
    const prefix = Buffer.concat(this.pending, this.pendingBytes).subarray(0, this.o.prefix);
    this.opened.resolve({ source: this, prefix: Buffer.from(prefix) });
  }

  private fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.error = err;
    this.socket.destroy();
    if (!this.settled) {
      this.settled = true;
      this.opened.reject(err);
    } else {
      this.sink?.error(err); // before start(), start() reports it
    }
  }
}

/** Opens the GET and waits for its answer and the first `prefix` body bytes. Rejects with the S3 error code (NoSuchKey, …) or a network code. */
export function directGet(o: DirectGetOptions): Promise<DirectGet> {
  return new Promise((resolve, reject) => {
    new DirectGetSource(o, { resolve, reject });
  });
}
