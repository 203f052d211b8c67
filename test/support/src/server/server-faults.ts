import type { SyncServer } from '@syncline/server';

/**
 * Makes the server swallow the next `emit` to `room` for the sockets `skip` selects (the others
 * still get it), without disconnecting anyone. Returns how many emits were cut so far and a
 * restore function.
 */
export function dropNextBroadcast(
  server: SyncServer,
  room: string,
  skip: readonly string[],
): { dropped(): number; restore(): void } {
  const io = server.io;
  const original = io.to.bind(io);
  let dropped = 0;
  io.to = (target) => {
    if (dropped === 0 && target === room) {
      dropped++;
      return original(target).except([...skip]);
    }
    return original(target);
  };
  return {
    dropped: () => dropped,
    restore: () => {
      io.to = original;
    },
  };
}

/** Server-side socket ids of the connections a client id holds right now. */
export async function socketIdsOf(server: SyncServer, clientId: string): Promise<string[]> {
  const sockets = await server.io.fetchSockets();
  return sockets.filter((s) => s.data.clientId === clientId).map((s) => s.id);
}
