import 'fake-indexeddb/auto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSyncClient,
  SynclineConfigError,
  SynclineError,
  SynclineWriteError,
  type SyncClientOptions,
} from '../src/index.js';
import { device, type Card, type Device } from '@syncline/test-support/devices';

const devices: Device[] = [];
const servers: { srv: Server; open: Socket[] }[] = [];
afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  for (const { srv, open } of servers.splice(0)) {
    for (const s of open) s.destroy();
    await new Promise((r) => srv.close(r));
  }
});

function offlineDevice(client: Partial<SyncClientOptions> = {}, url = 'http://127.0.0.1:1'): Device {
  const d = device(url, { online: false, client });
  devices.push(d);
  return d;
}

/** A TCP server that accepts connections and never answers (a hung server). */
async function silentServer(): Promise<string> {
  const open: Socket[] = [];
  const srv = createServer((s) => open.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push({ srv, open });
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

describe('one error class', () => {
  it('refuses bad options with SynclineError invalid_config, the config error as its cause', () => {
    const d = offlineDevice();
    let err: unknown;
    try {
      createSyncClient(d.db, { url: 'x', tables: {}, scopes: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ name: 'SynclineError', code: 'invalid_config', retryable: false });
    expect((err as Error).message).toMatch(/^invalid_config: url: expected a server URL/);
    const cause = (err as SynclineError).cause;
    expect(cause).toBeInstanceOf(SynclineConfigError);
    expect((cause as SynclineConfigError).message).toBe((err as Error).message);
    expect((cause as SynclineConfigError).issues.map((i) => i.path)).toEqual(['url']);
  });

  it('refuses a client created after db.open() with invalid_config', async () => {
    const d = offlineDevice();
    await d.sync.start();
    expect(() => createSyncClient(d.db, { url: 'http://127.0.0.1:1', tables: {}, scopes: [] })).toThrow(
      expect.objectContaining({ code: 'invalid_config', name: 'SynclineError' }),
    );
  });

  it('rejects a write that cannot sync with SynclineError (SynclineWriteError is the same class)', async () => {
    const d = offlineDevice();
    await d.sync.start();
    expect(SynclineWriteError).toBe(SynclineError);
    const value = JSON.parse('{"id":"c1","board":"1","title":"t","__proto__":{"x":1}}') as Card;
    const err: unknown = await d.db.cards.put(value).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'forbidden_key', retryable: false });
    const e = err as SynclineError;
    expect(e.error).toEqual({ code: e.code, message: e.message, retryable: e.retryable });
  });

  it('bounds serverHash by requestTimeoutMs and rejects with unreachable', async () => {
    const d = offlineDevice({ requestTimeoutMs: 200 }, await silentServer());
    await d.sync.start();
    const started = Date.now();
    const err: unknown = await d.sync.serverHash('board:1').catch((e: unknown) => e);
    // The default (15 s) would far outlast this bound.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(SynclineError);
    expect(err).toMatchObject({ code: 'unreachable', retryable: true });
  });

  it('rejects history of a record not synced here with unknown_record', async () => {
    const d = offlineDevice();
    await d.sync.start();
    await expect(d.sync.history('cards', 'nope')).rejects.toMatchObject({
      name: 'SynclineError',
      code: 'unknown_record',
    });
  });
});
