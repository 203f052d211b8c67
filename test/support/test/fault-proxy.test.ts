import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../src/eventually.js';
import { frameLength, startFaultProxy, type FaultProxy } from '../src/fault-proxy.js';

/** An unmasked WebSocket text frame. */
const frame = (text: string, opcode = 0x1) => {
  const body = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x80 | opcode, body.length]), body]);
};
const HEAD = 'GET /socket.io/ HTTP/1.1\r\nUpgrade: websocket\r\n\r\n';

let echo: Server | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  const server = echo;
  echo = undefined;
  if (server) await new Promise((r) => server.close(r));
});

/** A TCP server that records what it receives and answers `pong:<n>` frames back. */
async function start(random: () => number) {
  const received: Buffer[] = [];
  echo = createServer((s) => s.on('data', (d: Buffer) => received.push(d)));
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  const port = (echo.address() as AddressInfo).port;
  proxy = await startFaultProxy(`http://127.0.0.1:${port}`, random);
  const client: Socket = connect(Number(new URL(proxy.url).port), '127.0.0.1');
  await new Promise((r) => client.once('connect', r));
  return { client, text: () => Buffer.concat(received).toString('latin1') };
}

describe('fault proxy', () => {
  it('measures frames of each length form and waits for incomplete ones', () => {
    expect(frameLength(frame('abc'))).toBe(5);
    expect(frameLength(frame('abc').subarray(0, 4))).toBe(0);
    const long = Buffer.concat([Buffer.from([0x81, 126, 0x01, 0x00]), Buffer.alloc(256)]);
    expect(frameLength(long)).toBe(260);
    const masked = Buffer.concat([Buffer.from([0x81, 0x80 | 2, 1, 2, 3, 4]), Buffer.from('hi')]);
    expect(frameLength(masked)).toBe(8);
  });

  it('passes the HTTP head, duplicates frames, and drops them, frame by frame', async () => {
    const { client, text } = await start(() => 0);
    proxy!.set('up', { duplicate: 1 });
    client.write(HEAD + frame('a').toString('latin1') + frame('b').toString('latin1'), 'latin1');
    await eventually(() => text().split('\x81\x01').length - 1 === 4, 'four frames');
    expect(text()).toBe(`${HEAD}\x81\x01a\x81\x01a\x81\x01b\x81\x01b`);
    proxy!.set('up', { drop: 1 });
    client.write(frame('c'));
    client.write(frame('x', 0x9)); // a ping: control frames always pass
    await eventually(() => text().endsWith('\x89\x01x'), 'the ping');
    expect(text()).not.toContain('\x81\x01c');
    expect(proxy!.stats).toMatchObject({ duplicated: 2, dropped: 1 });
  });

  it('a cut direction swallows frames until healed, then the link is closed', async () => {
    const { client, text } = await start(() => 0.5);
    client.write(HEAD);
    await eventually(() => text() === HEAD, 'the head');
    proxy!.cut('up');
    client.write(frame('lost'));
    await new Promise((r) => setTimeout(r, 100));
    expect(text()).toBe(HEAD);
    const closed = new Promise((r) => client.once('close', r));
    proxy!.heal();
    await closed;
  });
});
