import { afterEach, describe, expect, it, vi } from 'vitest';
import { Decoder } from 'socket.io-parser';
import { DEFAULT_LIMITS } from '@syncline/protocol';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';
import { emitRaw, nextDisconnect } from './helpers/bad-input.js';

// Finding 4 (transport): Socket.IO used to decode a whole frame (up to a 2 MiB buffer, plus up to
// 10 binary attachments) before the size and rate checks ran. Now a frame over the protocol's
// largest message is cut off by the transport, and a packet announcing binary attachments is
// refused by the parser from its first character. The spy on socket.io-parser's own decoder
// (one module instance, shared by the server and the test clients) records what reached it.

let running: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  clients.splice(0).forEach((c) => c.close());
  await running?.stop();
  running = undefined;
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(running!.url);
  clients.push(c);
  return c;
}

/** What socket.io-parser's decoder was given: binary chunks, and text by its first character and size. */
function spyDecoder() {
  const seen = { binary: 0, binaryPackets: 0, largestText: 0 };
  const original = Decoder.prototype.add; // eslint-disable-line @typescript-eslint/unbound-method
  vi.spyOn(Decoder.prototype, 'add').mockImplementation(function (this: Decoder, obj: unknown) {
    if (typeof obj !== 'string') seen.binary += 1;
    else {
      if (obj.startsWith('5') || obj.startsWith('6')) seen.binaryPackets += 1;
      seen.largestText = Math.max(seen.largestText, obj.length);
    }
    original.call(this, obj);
  });
  return seen;
}

describe('limits before parsing', () => {
  it('cuts off a frame over maxPayloadBytes + margin before decoding it; the server carries on', async () => {
    running = await startServer();
    const [bad, good] = [await connect(), await connect()];
    const seen = spyDecoder();
    let acked = false;
    const disconnected = nextDisconnect(bad.socket);
    // 1.5 MiB: under the old 2 MiB buffer (decoded, then refused with payload_too_large), over the new limit.
    const big = { s: 'x'.repeat(1.5 * 1024 * 1024) };
    const mutation = {
      mid: 1,
      scope: 'team:a',
      collection: 'notes',
      id: 'n',
      base: 0,
      op: 'put',
      value: big,
    };
    emitRaw(bad.socket, 'push', { mutations: [mutation] }, () => (acked = true));
    expect(await disconnected).toMatch(/transport/);
    expect(acked).toBe(false);
    expect(seen.largestText).toBeLessThan(DEFAULT_LIMITS.maxPayloadBytes);
    expect(await good.hash('team:a')).toMatchObject({ ok: true });
  });

  it('refuses a packet with binary attachments from its header, before any JSON or attachment is read', async () => {
    running = await startServer();
    const [bad, good] = [await connect(), await connect()];
    const seen = spyDecoder();
    let acked = false;
    const disconnected = nextDisconnect(bad.socket);
    // socket.io-client sends a BINARY_EVENT header, then the attachments as binary frames.
    const blobs = Array.from({ length: 10 }, () => new Uint8Array(64 * 1024));
    emitRaw(bad.socket, 'push', { mutations: [], blobs }, () => (acked = true));
    expect(await disconnected).toMatch(/transport|server/);
    expect(acked).toBe(false);
    expect(seen).toMatchObject({ binary: 0, binaryPackets: 0 });
    expect(await good.hash('team:a')).toMatchObject({ ok: true });
    // The refused socket's client may reconnect and carry on.
    const again = await connect();
    expect(await again.hash('team:a')).toMatchObject({ ok: true });
  });

  it('still answers a message a little over maxPayloadBytes with payload_too_large', async () => {
    running = await startServer();
    const c = await connect();
    const value = { s: 'x'.repeat(DEFAULT_LIMITS.maxPayloadBytes) };
    const res = await c.push([
      { mid: 1, scope: 'team:a', collection: 'notes', id: 'n', base: 0, op: 'put', value } as never,
    ]);
    expect(res).toMatchObject({ ok: false, error: { code: 'payload_too_large' } });
  });
});
