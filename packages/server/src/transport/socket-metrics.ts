import type { MetricsSources } from '../ops/scrape-gauges.js';
import { SCOPE_ROOM_PREFIX, type SyncIo } from './context.js';

/**
 * What the gauges read from Socket.IO at scrape time: the accepted sockets and the scope rooms
 * of this node (only rooms named by `scopeRoom`; each socket's own room is not a subscription).
 */
export function socketMetricsSources(io: SyncIo): Pick<MetricsSources, 'connectedClients' | 'subscriptions'> {
  return {
    connectedClients: () => io.of('/').sockets.size,
    subscriptions: () => {
      let total = 0;
      let scopes = 0;
      let maxPerScope = 0;
      for (const [room, members] of io.of('/').adapter.rooms) {
        if (!room.startsWith(SCOPE_ROOM_PREFIX)) continue;
        total += members.size;
        scopes++;
        maxPerScope = Math.max(maxPerScope, members.size);
      }
      return { total, scopes, maxPerScope };
    },
  };
}
