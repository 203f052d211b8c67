import { device, type Device } from '@syncline/test-support/devices';

/**
 * A `SyncClient` device (own fake IndexedDB) that knows every node: it starts on `urls[0]` and
 * moves to the next URL whenever a connection or request fails.
 */
export function clusterDevice(
  urls: readonly string[],
  scopes: readonly string[],
  opts: { name: string; random: () => number },
): Device {
  return device(urls[0]!, {
    name: opts.name,
    client: {
      url: [...urls],
      scopes: [...scopes],
      random: opts.random,
      // Generous for a loaded 2-core machine; a dead node fails faster than this anyway.
      requestTimeoutMs: 8000,
    },
  });
}

/** `urls` rotated so that it starts at index `first`: failover order differs per client. */
export const rotate = <T>(xs: readonly T[], first: number): T[] =>
  xs.map((_, i) => xs[(first + i) % xs.length]!);
