import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from 'nats';
import type { AppMutation } from '@syncline/protocol';
import { createSyncServer, type SyncServer } from '../src/create-sync-server.js';
import { silentLogger } from '../src/ops/logger.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import { eventually, freePort } from '@syncline/test-support';
import { natsConsumer, testStream } from './helpers/brokers.js';

/** The machine's NATS binary (`.ci/run` starts the shared server from it). */
const NATS_SERVER = '/usr/sbin/nats-server';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * A NATS server with JetStream of this test's own, on its own port and store directory, so it
 * can be killed and restarted without touching the shared one other test files use.
 */
async function privateNats(): Promise<{ url: string; kill(): Promise<void>; start(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'syncline-nats-'));
  let proc: ChildProcess | undefined;
  const kill = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGKILL');
    await exited;
  };
  const start = async () => {
    proc = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
      stdio: 'ignore',
    });
    await eventually(() => accepts(port), 'the private NATS server listens', 10_000);
  };
  cleanups.push(async () => {
    await kill();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { url: `nats://127.0.0.1:${port}`, kill, start };
}

let accepted = new Set<number>();
/** Whether `port` took a TCP connection at the last try (tries again in the background). */
function accepts(port: number): boolean {
  const socket = connectTcp(port, '127.0.0.1');
  socket.once('connect', () => {
    accepted.add(port);
    socket.destroy();
  });
  socket.once('error', () => accepted.delete(port));
  return accepted.has(port);
}

const BACKEND = { id: 'backend' } as const;
const WRITER = { clientId: 'sink-restart-writer' };
let mid = 0;
async function put(server: SyncServer, i: number): Promise<void> {
  const m = {
    mid: ++mid,
    scope: `team:${i % 3}`,
    collection: 'notes',
    id: `n${i}`,
    op: 'put',
    base: 0,
    value: { i },
  };
  const res = await server.applyMutations(BACKEND, [m as unknown as AppMutation], WRITER);
  if (!res.ok) throw new Error(JSON.stringify(res));
  // A macrotask per write: memory storage answers in microtasks and would starve the sink's timers.
  await new Promise((resolve) => setImmediate(resolve));
}

/** Messages stored in `stream`, asked of a connection of its own; -1 while the server cannot answer. */
async function stored(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url, reconnect: false }).catch(() => undefined);
  if (!nc) return -1;
  try {
    return (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
  } catch {
    return -1;
  } finally {
    await nc.close();
  }
}

describe.skipIf(!existsSync(NATS_SERVER))('broker sink across a broker restart', () => {
  it(
    'NATS killed and restarted mid-stream: the stream ends with every change once, in order per scope',
    { timeout: 60_000 },
    async () => {
      accepted = new Set();
      const nats = await privateNats();
      const { stream, subjectPrefix } = testStream();
      const consumer = await natsConsumer(stream, subjectPrefix, nats.url);
      await consumer.close(); // the stream stays on the private server; it is read at the end
      const storage = new MemoryStorage();
      const server = createSyncServer({
        auth: 'development',
        logger: silentLogger,
        storage,
        changeFeed: { pollIntervalMs: 50 },
        sinks: [
          {
            name: 'out',
            kind: 'nats',
            servers: nats.url,
            stream,
            subjectPrefix,
            retryMinMs: 50,
            retryMaxMs: 300,
            batchSize: 10,
          },
        ],
      });
      cleanups.push(async () => {
        await server.close();
        await storage.close();
      });
      mid = 0;
      let i = 0;
      for (; i < 60; i++) await put(server, i);
      await eventually(async () => (await stored(nats.url, stream)) >= 20, 'publishing under way');
      await nats.kill();
      for (; i < 120; i++) await put(server, i); // writes go on while the broker is down
      await nats.start();
      for (; i < 150; i++) await put(server, i);
      await eventually(
        async () => (await stored(nats.url, stream)) >= 150,
        'everything published after the restart',
        30_000,
      );

      const all = await readAll(nats.url, stream);
      expect(byScope(all)).toEqual({ 'team:0': dense(50), 'team:1': dense(50), 'team:2': dense(50) });
    },
  );
});

const dense = (n: number) => Array.from({ length: n }, (_, k) => k + 1);

function byScope(messages: readonly { scope: string; version: number }[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of messages) (out[m.scope] ??= []).push(m.version);
  return out;
}

/** Every message of `stream`, deduplicated by `Nats-Msg-Id` as a consumer would, in stream order. */
async function readAll(url: string, stream: string): Promise<{ scope: string; version: number }[]> {
  const nc = await connect({ servers: url });
  try {
    const consumer = await nc.jetstream().consumers.get(stream); // ordered, from the start
    const seen = new Set<string>();
    const out: { scope: string; version: number }[] = [];
    const messages = await consumer.fetch({ max_messages: 1000, expires: 2000 });
    for await (const m of messages) {
      const id = m.headers?.get('Nats-Msg-Id') ?? '';
      if (!seen.has(id)) {
        seen.add(id);
        out.push({
          scope: m.headers?.get('Syncline-Scope') ?? '',
          version: Number(m.headers?.get('Syncline-Version')),
        });
      }
      if (m.info.pending === 0) break;
    }
    return out;
  } finally {
    await nc.close();
  }
}
