import type { ServerOptions } from 'socket.io';

/**
 * Cross-node fan-out: the Socket.IO adapter that carries one node's broadcasts to the sockets of
 * every other node, and its connection's health. Created by `createPostgresFanout` or
 * `createRedisFanout` and passed to `createSyncServer({ cluster })`; its creator closes it after
 * the server.
 *
 * A broadcast lost on the way (the connection was down) costs only latency: the next change of
 * that scope shows receivers a version gap and they pull, and when the connection comes back the
 * server re-announces heads (`onReconnect`, `startCatchUp`) so even a scope's last change is
 * caught up.
 */
export interface ClusterFanout {
  /** `postgres` or `redis`, for logs and health. */
  readonly kind: string;
  /** The adapter for `new Server(http, { adapter })`. */
  readonly adapter: ServerOptions['adapter'];
  /** True while this node sends and receives cross-node broadcasts. */
  ready(): boolean;
  /**
   * `listener` runs each time the connection comes back after a loss, when broadcasts may have
   * been lost both ways. `info.downSince` (epoch ms) is when the loss was noticed; a fan-out that
   * does not know passes nothing. Returns the removal.
   */
  onReconnect(listener: (info?: ReconnectInfo) => void): () => void;
  /** Releases the connections. Call after the server closed. */
  close(): Promise<void>;
}

/** What `onReconnect` tells of the loss that just ended. */
export interface ReconnectInfo {
  /** Epoch milliseconds when the loss was noticed. */
  readonly downSince: number;
}

/**
 * The name that keeps clusters apart on a shared broker: nodes of one cluster share one
 * database and schema, so both go into channel and stream names.
 */
export function clusterName(connectionString: string, schema: string): string {
  let database = '';
  try {
    database = decodeURIComponent(new URL(connectionString).pathname.replace(/^\//, ''));
  } catch {
    // Not a URL (a libpq key=value string): the schema alone names the cluster.
  }
  return database === '' ? schema : `${database}.${schema}`;
}
