// The Node tests of a cluster drive the real browser client (fake-indexeddb), whose sources name
// DOM types; this program has no DOM lib otherwise.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="dom.asynciterable" />
import { converged, device, until, settled, type Device } from '../../../client/test/helpers.js';

export { converged, until, settled, type Device };
export type { Card } from '../../../client/test/helpers.js';

/** The seed of this run: `SYNCLINE_SEED` to replay one, else random (and printed by the test). */
export function runSeed(): number {
  const env = process.env['SYNCLINE_SEED'];
  return env !== undefined && env !== '' ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

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
