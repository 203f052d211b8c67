import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { Limits } from '@syncline/protocol';
import type { ClusterFanout } from '../cluster/cluster-fanout.js';
import type { SyncIo } from './context.js';
import { maxFrameBytes, textOnlyParser } from './frame-parser.js';
import { isOriginAllowed } from './origin.js';

/**
 * Socket.IO's heartbeat (see `createSocketServer`): a dead link is noticed by both ends within
 * `intervalMs + timeoutMs`. Load balancers see traffic on every connection at least every
 * `intervalMs`.
 */
export const HEARTBEAT = { intervalMs: 2_000, timeoutMs: 2_000 } as const;

export interface SocketServerOptions {
  /** Socket.IO path (default `/socket.io`). */
  readonly path?: string | undefined;
  readonly limits: Limits;
  /** Browser origins allowed besides same-origin (`cors.origins`). */
  readonly origins: readonly string[];
  /** Cross-node fan-out: its adapter carries broadcasts to the other nodes. */
  readonly cluster?: ClusterFanout | undefined;
}

/** The Socket.IO server on `httpServer`: heartbeat, frame size cap, text-only parser, origin policy, adapter. */
export function createSocketServer(httpServer: HttpServer, options: SocketServerOptions): SyncIo {
  const { origins, cluster } = options;
  return new Server(httpServer, {
    path: options.path ?? '/socket.io',
    serveClient: false,
    // Heartbeat: a ping every 2 s, answered within 2 s. A client whose link died unnoticed
    // (no FIN, no `offline` event) closes the socket within 4 s of the last ping it heard and
    // reports itself reconnecting, and the server frees the socket as fast. The cost is two
    // frames of a few bytes per connection every 2 s (Socket.IO's defaults of 25 s + 20 s
    // would leave a dead link unnoticed for up to 45 s).
    pingInterval: HEARTBEAT.intervalMs,
    pingTimeout: HEARTBEAT.timeoutMs,
    // Limits before parsing: a frame over the protocol's largest message (plus a margin, so a
    // slightly oversized message still gets a clear `payload_too_large`) is cut off by the
    // transport before it is buffered, and binary attachments are refused by the parser
    // before any JSON is parsed (see frame-parser.ts).
    maxHttpBufferSize: maxFrameBytes(options.limits),
    parser: textOnlyParser,
    // Plain HTTP (polling) requests from a foreign origin are refused outright. WebSocket
    // upgrades get through to the handshake middleware instead, which refuses them with
    // `origin_not_allowed`: browsers hide a failed upgrade's status, so that is the only way a
    // developer sees why the connection is refused.
    allowRequest: (req, cb) => cb(null, req.headers.upgrade === 'websocket' || isOriginAllowed(req, origins)),
    ...(origins.length > 0 ? { cors: { origin: origins.includes('*') ? '*' : [...origins] } } : {}),
    ...(cluster ? { adapter: cluster.adapter } : {}),
  });
}

/** Closes every socket, then the HTTP server; resolves at once when that server never listened. */
export function closeSocketServer(io: SyncIo, httpServer: HttpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    void io.close(() => resolve());
    // io.close only calls back once the HTTP server has closed; with no server listening it may not.
    if (!httpServer.listening) resolve();
  });
}
