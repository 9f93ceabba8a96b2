/**
 * direct-get.ts against a loopback server that answers what each case needs: the request it
 * sends, the body through one reused buffer, and every way an answer can be wrong (S3 errors,
 * no Content-Length, a cut connection, silence, a range ignored).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { directGet, type DirectGet } from '../../../storage/direct-get';

type Handler = (request: string, socket: net.Socket) => void;

async function serve(handler: Handler): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let req = '';
    socket.on('data', (d) => {
      req += d.toString('latin1');
      if (req.includes('\r\n\r\n')) handler(req, socket);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/bucket/objects/a?X-Amz-Signature=abc`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Everything the source delivers, copied as it comes (the buffer is reused). */
function collect(g: DirectGet): Promise<{ body: Buffer; err: Error | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    g.source.start({
      data: (c) => chunks.push(Buffer.from(c)),
      end: () => resolve({ body: Buffer.concat(chunks), err: null }),
      error: (err) => resolve({ body: Buffer.concat(chunks), err }),
    });
  });
}

describe('storage: direct GET into a reused buffer (direct-get.ts)', function () {
  this.timeout(10_000);
  let server: Awaited<ReturnType<typeof serve>> | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  it('sends the presigned path, Host and Range; delivers the body in order; the prefix is a copy of its start', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + (i >> 12)) & 0xff;
    let seen = '';
    server = await serve((req, socket) => {
      seen = req;
      socket.write(`HTTP/1.1 206 Partial Content\r\nContent-Length: ${body.length}\r\nContent-Type: application/octet-stream\r\n\r\n`);
      // In pieces, so the body spans many reads of the client's buffer.
      for (let i = 0; i < body.length; i += 100_000) socket.write(body.subarray(i, i + 100_000));
    });
    const g = await directGet({ url: server.url, range: { offset: 100, length: body.length }, idleMs: 5000, prefix: 34, bufferSize: 64 * 1024 });
    assert.match(seen, /^GET \/bucket\/objects\/a\?X-Amz-Signature=abc HTTP\/1\.1\r\n/);
    assert.match(seen, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    assert.match(seen, new RegExp(`\\r\\nRange: bytes=100-${100 + body.length - 1}\\r\\n`));
    assert.ok(g.prefix.equals(body.subarray(0, 34)));
    const { body: got, err } = await collect(g);
    assert.equal(err, null);
    assert.ok(got.equals(body), 'the body arrives whole and in order');
  });

  it('an S3 error answer rejects with its code (NoSuchKey), whatever the reads it comes in', async () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>';
    server = await serve((_req, socket) => {
      socket.write(`HTTP/1.1 404 Not Found\r\nContent-Length: ${xml.length}\r\n\r\n${xml.slice(0, 20)}`);
      setTimeout(() => socket.end(xml.slice(20)), 20);
    });
    await assert.rejects(directGet({ url: server.url, idleMs: 5000, prefix: 34 }), (e: NodeJS.ErrnoException) => e.code === 'NoSuchKey' && /does not exist/.test(e.message));
  });

  it('refuses an answer without a Content-Length (chunked) and a range answered whole', async () => {
    server = await serve((req, socket) => {
      if (req.includes('Range:')) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
      else socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    });
    await assert.rejects(directGet({ url: server.url, idleMs: 5000, prefix: 1 }), (e: NodeJS.ErrnoException) => e.code === 'EPROTO');
    await assert.rejects(directGet({ url: server.url, range: { offset: 0, length: 3 }, idleMs: 5000, prefix: 1 }), (e: NodeJS.ErrnoException) => e.code === 'EPROTO');
  });

  it('a connection cut mid-body is an error (ECONNRESET) after what did arrive, never a short success', async () => {
    server = await serve((_req, socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      socket.end(Buffer.alloc(600, 1));
    });
    const g = await directGet({ url: server.url, idleMs: 5000, prefix: 10 });
    const { body, err } = await collect(g);
    assert.equal((err as NodeJS.ErrnoException | null)?.code, 'ECONNRESET');
    assert.equal(body.length, 600);
  });

  it('a server that goes silent is cut after the idle time (ETIMEDOUT), before and during the body', async () => {
    server = await serve((req, socket) => {
      if (req.includes('Range:')) socket.write('HTTP/1.1 206 Partial Content\r\nContent-Length: 100\r\n\r\n0123456789');
      // otherwise: nothing at all
    });
    let t0 = Date.now();
    await assert.rejects(directGet({ url: server.url, idleMs: 300, prefix: 1 }), (e: NodeJS.ErrnoException) => e.code === 'ETIMEDOUT');
    assert.ok(Date.now() - t0 >= 250 && Date.now() - t0 < 3000, `gave up after ${Date.now() - t0} ms`);
    t0 = Date.now();
    const g = await directGet({ url: server.url, range: { offset: 0, length: 100 }, idleMs: 300, prefix: 4 });
    const { body, err } = await collect(g);
    assert.equal((err as NodeJS.ErrnoException | null)?.code, 'ETIMEDOUT');
    assert.equal(body.toString(), '0123456789');
  });
});
