/**
 * A loopback TCP proxy in front of a service, for fault tests: pass traffic through, delay every
 * chunk (a slow link or a slow disk behind the server), or stall (hold every byte: a server that
 * accepted the connection and stopped answering). The mode can change while connections are open.
 */
import net from 'node:net';

export type ProxyMode = { kind: 'pass' } | { kind: 'delay'; ms: number } | { kind: 'stall' };

export interface TcpProxy {
  port: number;
  mode: ProxyMode;
  /** Bytes carried in both directions so far. */
  bytes: number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const state: TcpProxy = { port: 0, mode: { kind: 'pass' }, bytes: 0, close: async () => undefined };
  const relay = (from: net.Socket, to: net.Socket) => {
    // A delayed chunk still goes out when its sender closes meanwhile: the end is passed on after
    // it, as a real proxy would (a server that closes after its answer loses nothing).
    let delayed = 0;
    let closeAfter = false;
    const close = (): void => {
      if (delayed > 0) closeAfter = true;
      else to.end();
    };
    from.on('data', (chunk: Buffer) => {
      const m = state.mode;
      if (m.kind === 'stall') return; // swallowed: the other side waits forever
      state.bytes += chunk.length;
      if (m.kind === 'pass') to.write(chunk);
      else {
        from.pause();
        delayed++;
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
          if (--delayed === 0 && closeAfter) to.end();
        }, m.ms);
      }
    });
    from.on('end', close);
    from.on('close', close);
    from.on('error', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
