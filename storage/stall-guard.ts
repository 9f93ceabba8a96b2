/**
 * An HTTP agent for the MinIO client that turns a stalled object store into an error. Without it a
 * MinIO that accepts a connection and then stops answering (a hung disk, a half-dead node, a
 * network that drops packets) leaves a put or get waiting forever: the worker's job keeps its
 * lease by heartbeat and nothing ever retries (issue #15 §1: slow MinIO). With it, a socket that
 * carries no byte for `idleMs` is destroyed with ETIMEDOUT, which the store reports as
 * service_unavailable, and the job is retried with back-off like any other outage. A slow but
 * moving transfer is never cut: the clock restarts with every byte.
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

function guard(socket: Duplex & { setTimeout(ms: number): unknown }, idleMs: number): void {
  socket.setTimeout(idleMs);
  socket.on('timeout', () => {
    const err = Object.assign(new Error(`object storage sent nothing for ${idleMs} ms`), { code: 'ETIMEDOUT' });
    socket.destroy(err);
  });
}

export function stallGuardAgent(useSSL: boolean, idleMs: number): http.Agent {
  const Base = useSSL ? https.Agent : http.Agent;
  class StallGuardAgent extends (Base as typeof http.Agent) {
    override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
      const socket = super.createConnection(...args);
      if (socket) guard(socket as Duplex & { setTimeout(ms: number): unknown }, idleMs);
      return socket;
    }
  }
  // `timeout` too: a kept-alive socket handed back to the pool gets the agent's timeout again (0
  // would switch the guard off for every request after the first on that socket).
  return new StallGuardAgent({ keepAlive: true, timeout: idleMs });
}
