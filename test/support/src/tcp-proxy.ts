import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of `target` (host:port) that can stop forwarding without
 * closing anything: the connections stay open and silent, like a link whose network died
 * (no FIN, no RST), which only a heartbeat can notice.
 */
export interface TcpProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Stops forwarding on every connection, now and later (bytes are swallowed). */
  blackhole(): void;
  /** Forwards again; the connections that went silent are closed (as a dead link ends). */
  heal(): void;
  close(): Promise<void>;
}

/**
 * Connects `client` to `target` for a proxy: both sockets are tracked in `sockets` until they
 * close, errors end them, and either side closing closes the other. Returns the upstream socket.
 */
export function connectUpstream(client: Socket, target: URL, sockets: Set<Socket>): Socket {
  const upstream = connect(Number(target.port), target.hostname);
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  }
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  return upstream;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  let dead = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connectUpstream(client, target, sockets);
    client.on('data', (chunk) => {
      if (!dead) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!dead) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    blackhole: () => {
      dead = true;
    },
    heal: () => {
      dead = false;
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
