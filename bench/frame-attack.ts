/**
 * Frame attack probe (finding 4 of issue 16): how long a well-behaved client waits while two
 * attacker processes send near-2-MiB frames (and packets with binary attachments) in a loop,
 * reconnecting after each cut-off. Not part of `pnpm bench`; run it on its own:
 *
 *   node --conditions=syncline-source --import tsx bench/frame-attack.ts [seconds=10]
 *
 * Prints the probe's round-trip times (p50, p99, max) for `hash` calls every 10 ms, without and
 * then with the attack.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { io as ioClient } from 'socket.io-client';
import { PROTOCOL_VERSION } from '@syncline/protocol';
import { createSyncServer, MemoryStorage } from '@syncline/server';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const connect = (url: string, clientId: string) =>
  ioClient(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { protocolVersion: PROTOCOL_VERSION, clientId },
  });

async function attack(url: string, seconds: number, id: string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  const value = 'x'.repeat(1_900_000);
  const frame = `42${1}["push",{"mutations":[{"mid":1,"scope":"team:a","collection":"notes","id":"n","base":0,"op":"put","value":{"s":"${value}"}}]}]`;
  const blobs = Array.from({ length: 10 }, () => new Uint8Array(190 * 1024));
  for (let i = 0; Date.now() < end; i++) {
    const socket = connect(url, `attacker_${id}_${i}`);
    await new Promise<void>((done) => {
      socket.once('connect', () => {
        if (i % 2 === 0) (socket.io.engine as unknown as { write(s: string): void }).write(frame);
        else (socket as unknown as { emit(...a: unknown[]): void }).emit('push', { blobs }, () => undefined);
        setTimeout(done, 200);
      });
      socket.once('connect_error', () => done());
    });
    socket.close();
  }
}

async function probe(url: string, ms: number): Promise<number[]> {
  const socket = connect(url, 'probe_client_1');
  await new Promise<void>((done) => socket.once('connect', () => done()));
  const times: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const t = performance.now();
    await socket.timeout(30_000).emitWithAck('hash', { scope: 'team:a' });
    times.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 10));
  }
  socket.close();
  return times.sort((a, b) => a - b);
}

const summary = (t: number[]) => ({
  calls: t.length,
  p50: t[Math.floor(t.length * 0.5)]!.toFixed(1),
  p99: t[Math.floor(t.length * 0.99)]!.toFixed(1),
  max: t[t.length - 1]!.toFixed(1),
});

async function main(): Promise<void> {
  if (process.argv[2] === 'attack')
    return attack(process.argv[3]!, Number(process.argv[4]), process.argv[5]!);
  const seconds = Number(process.argv[2] ?? 10);
  const server = createSyncServer({ storage: new MemoryStorage(), auth: 'development', logger: silent });
  const { url } = await server.listen(0);
  console.log('quiet (ms):', summary(await probe(url, 2000)));
  const self = fileURLToPath(import.meta.url);
  const attackers = ['a', 'b'].map((id) =>
    spawn(
      process.execPath,
      ['--conditions=syncline-source', '--import', 'tsx', self, 'attack', url, String(seconds), id],
      {
        stdio: 'inherit',
      },
    ),
  );
  await new Promise((r) => setTimeout(r, 1000));
  console.log('under attack (ms):', summary(await probe(url, (seconds - 2) * 1000)));
  await Promise.all(attackers.map((p) => new Promise((r) => p.once('exit', r))));
  await server.close();
}

await main();
