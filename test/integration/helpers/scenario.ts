import { afterEach } from 'vitest';
import { filter, firstValueFrom, type Observable } from 'rxjs';
import type { SyncServerOptions } from '@syncline/server';
import { converged, device, type Card, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';

type DeviceOptions = Parameters<typeof device>[1];

/**
 * One server and the devices of a test, all torn down after each test. Call at module level:
 * it registers its own `afterEach`.
 */
export function scenario() {
  let server: TestServer | undefined;
  const devices: Device[] = [];
  afterEach(async () => {
    for (const d of devices.splice(0)) await d.sync.close();
    await server?.stop();
    server = undefined;
  });
  return {
    async server(opts: Partial<SyncServerOptions> = {}): Promise<TestServer> {
      server = await startServer(opts);
      return server;
    },
    /** A started device on the current server. */
    async device(opts: DeviceOptions = {}): Promise<Device> {
      if (!server) throw new Error('start the server first');
      const d = device(server.url, opts);
      devices.push(d);
      await d.sync.start();
      return d;
    },
  };
}

/** Resolves with the first value of `source` that satisfies `pred` (or rejects after a timeout). */
export function next<T>(source: Observable<T>, pred: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    firstValueFrom(source.pipe(filter(pred))).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no matching value in ${timeoutMs}ms`)), timeoutMs);
    }),
  ]);
}

/**
 * Waits until every device is settled and equal to the server, and returns the common hash.
 * Devices are settled in turn and then checked again, since one device's push can change what
 * the others must receive.
 */
export async function convergeAll(...devices: Device[]): Promise<string> {
  for (const d of devices) await converged(d);
  const hashes = new Set<string>();
  for (const d of devices) hashes.add(await converged(d));
  if (hashes.size !== 1) throw new Error(`devices converged to ${hashes.size} different hashes`);
  return [...hashes][0]!;
}

export function offline(...devices: Device[]): void {
  for (const d of devices) d.network.set(false);
}

/** Brings one device back online and waits until its outbox is pushed and it equals the server. */
export async function reconnect(d: Device): Promise<void> {
  d.network.set(true);
  await converged(d);
}

/** The device's local copy of a card. */
export function card(d: Device, id: string): Promise<Card | undefined> {
  return d.db.cards.get(id);
}
