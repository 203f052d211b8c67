// Before dexie: Dexie picks up the global indexedDB when it loads.
import 'fake-indexeddb/auto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { add as dexieAdd } from 'dexie';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { asScopeId } from '@syncline/protocol';
import { MemoryStorage, type SyncStorage } from '@syncline/server';
import {
  spawnServer,
  startFaultProxy,
  mulberry32,
  type ServerProcess,
  eventually,
  freePort,
} from '@syncline/test-support';
import { converged, device, SCOPE, settled, until, type Device } from '@syncline/test-support/devices';
import {
  startServer,
  type RunningServer as TestServer,
  dropNextBroadcast,
  FaultyStorage,
  socketIdsOf,
  type FaultTiming,
} from '@syncline/test-support/server';
import type { OutboxEntry, SyncPhase } from '@syncline/client';

const OUTBOX = '_syncline_outbox';
const SCOPE_ID = asScopeId(SCOPE);

const servers: TestServer[] = [];
const devices: Device[] = [];
const procs: ServerProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const d of devices.splice(0)) await d.sync.close();
  for (const s of servers.splice(0)) await s.stop();
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function track(d: Device): Device {
  devices.push(d);
  return d;
}

async function serve(storage: SyncStorage = new MemoryStorage()): Promise<TestServer> {
  const s = await startServer({ storage });
  servers.push(s);
  return s;
}

/** Counts accepted Socket.IO connections from now on. */
function countConnections(s: TestServer): () => number {
  let n = 0;
  s.server.io.on('connection', () => n++);
  return () => n;
}

/** Every phase a client goes through from now on. */
function recordPhases(d: Device): SyncPhase[] {
  const phases: SyncPhase[] = [];
  const sub = d.sync.status$.subscribe((s) => {
    if (phases[phases.length - 1] !== s.phase) phases.push(s.phase);
  });
  onTestFinished(() => sub.unsubscribe());
  return phases;
}

/**
 * Runs `fn` one microtask after the client's engine enters `pushing`: the engine has taken its
 * socket and is reading the outbox (an IndexedDB read, so not done yet) before it sends.
 * Resolves once the watch is live (status$ emitted), with a probe telling whether it fired.
 */
async function onNextPush(d: Device, fn: () => void): Promise<() => boolean> {
  let fired = false;
  let ready!: () => void;
  const live = new Promise<void>((r) => (ready = r));
  const sub = d.sync.status$.subscribe((s) => {
    ready();
    if (!fired && s.phase === 'pushing') {
      fired = true;
      queueMicrotask(fn);
    }
  });
  onTestFinished(() => sub.unsubscribe());
  await live;
  return () => fired;
}

async function outboxKeys(d: Device): Promise<Set<string>> {
  const entries = await d.db.table<OutboxEntry>(OUTBOX).toArray();
  return new Set(entries.map((e) => e.key));
}

async function serverValue(storage: SyncStorage, id: string) {
  return (await storage.getRecord(SCOPE_ID, 'cards', id))?.value;
}

let dbNames = 0;
const dbName = (tag: string) => `resilience-${tag}-${process.pid}-${++dbNames}`;

describe('client closed before its writes were pushed', () => {
  it('a new client on the same database pushes the queued write', async () => {
    const storage = new MemoryStorage();
    const server = await serve(storage);
    const name = dbName('reopen');
    const first = device(server.url, { name, online: false });
    await first.sync.start();
    const clientId = first.sync.clientId;
    await first.db.cards.put({ id: 'c1', board: '1', title: 'written offline' });
    // The count can arrive before the engine left `stopped`: wait for both.
    await until(first.sync, (s) => s.pending === 1 && s.phase === 'offline');
    await first.sync.close();
    expect(await storage.head(SCOPE_ID)).toBe(0);

    const second = track(device(server.url, { name }));
    await second.sync.start();
    expect(second.sync.clientId).toBe(clientId);
    await converged(second);
    const other = track(device(server.url));
    await other.sync.start();
    await converged(other);
    expect(await other.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'written offline' });
    const history = await storage.history(SCOPE_ID, 'cards', 'c1', { limit: 10 });
    expect(history.map((h) => [h.clientId, h.mid])).toEqual([[clientId, 1]]);
  });

  it('a client closed right after an online inc applies it exactly once after reopening', async () => {
    const storage = new MemoryStorage();
    const server = await serve(storage);
    const name = dbName('reopen-inc');
    const first = device(server.url, { name });
    await first.sync.start();
    await first.db.cards.put({ id: 'c1', board: '1', title: 'liked', likes: 0 });
    await converged(first);
    // Close without waiting: the push may be unsent, in flight, or applied with its ack lost.
    await first.sync.inc('cards', 'c1', 'likes', 1);
    await first.sync.close();

    const second = track(device(server.url, { name }));
    await second.sync.start();
    await converged(second);
    const other = track(device(server.url));
    await other.sync.start();
    await converged(other);
    expect((await serverValue(storage, 'c1'))?.likes).toBe(1);
    expect((await second.db.cards.get('c1'))?.likes).toBe(1);
    expect((await other.db.cards.get('c1'))?.likes).toBe(1);
  });
});

describe('ack lost after the server committed', () => {
  const timings: FaultTiming[] = ['before-broadcast', 'after-broadcast'];
  for (const timing of timings) {
    it(`does not double-apply an inc when every socket drops at commit (${timing})`, async () => {
      const storage = new FaultyStorage(new MemoryStorage());
      const server = await serve(storage);
      const a = track(device(server.url));
      const b = track(device(server.url));
      await a.sync.start();
      await b.sync.start();
      await a.db.cards.put({ id: 'c1', board: '1', title: 'liked', likes: 5 });
      await converged(a);
      await converged(b);
      const connections = countConnections(server);
      const seen = storage.outcomes.length;

      storage.arm(() => server.server.io.disconnectSockets(true), timing);
      await a.sync.inc('cards', 'c1', 'likes', 1);
      expect((await a.db.cards.get('c1'))?.likes).toBe(6);
      await eventually(() => storage.fired === 1, 'the armed fault never fired');
      await converged(a);
      await converged(b);
      await converged(a);

      // The fault really cut the connection; whatever the client re-sent was answered as a
      // duplicate, never applied a second time.
      expect(connections()).toBeGreaterThanOrEqual(2);
      const results = storage.outcomes.slice(seen).flatMap((o) => o.results ?? []);
      expect(results.filter((r) => r.status !== 'duplicate')).toHaveLength(1);
      expect((await serverValue(storage, 'c1'))?.likes).toBe(6);
      expect((await a.db.cards.get('c1'))?.likes).toBe(6);
      expect((await b.db.cards.get('c1'))?.likes).toBe(6);
      const history = await storage.history(SCOPE_ID, 'cards', 'c1', { limit: 10 });
      expect(history.map((h) => h.op)).toEqual(['inc', 'put']);
    });
  }
});

describe('dropped broadcast', () => {
  it('is recovered through gap detection without reconnecting', async () => {
    const storage = new MemoryStorage();
    const server = await serve(storage);
    const a = track(device(server.url));
    const b = track(device(server.url));
    await a.sync.start();
    await b.sync.start();
    await a.db.cards.put({ id: 'c0', board: '1', title: 'seen by both' });
    await converged(a);
    await converged(b);
    const bSockets = await socketIdsOf(server.server, b.sync.clientId);
    expect(bSockets).toHaveLength(1);
    const connections = countConnections(server);
    const bPhases = recordPhases(b);

    // The live change for c1 is cut for b only (the room name is the server's `scope:<scope>`).
    const drop = dropNextBroadcast(server.server, `scope:${SCOPE}`, bSockets);
    await a.db.cards.put({ id: 'c1', board: '1', title: 'broadcast lost' });
    await converged(a); // the ack follows the broadcast: the emit has happened
    drop.restore();
    expect(drop.dropped()).toBe(1);
    expect(await b.db.cards.get('c1')).toBeUndefined();

    // The next change arrives with `after` beyond b's cursor: b pulls the missing version.
    await a.db.cards.put({ id: 'c2', board: '1', title: 'next change' });
    await converged(a);
    await converged(b);
    expect(await b.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'broadcast lost' });
    expect(await b.db.cards.get('c2')).toEqual({ id: 'c2', board: '1', title: 'next change' });
    expect(connections()).toBe(0);
    expect(await socketIdsOf(server.server, b.sync.clientId)).toEqual(bSockets);
    expect(bPhases).toContain('pulling');
    expect(bPhases).not.toContain('connecting');
    expect(bPhases).not.toContain('backoff');
  });
});

describe('server SIGKILL and restart mid-sync', () => {
  it('keeps every acknowledged write, drains both outboxes and converges', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-client-restart-'));
    dirs.push(dir);
    const file = join(dir, 'sync.db');
    const port = await freePort();
    const args = ['--port', String(port), '--db', file, '--log-level', 'info'];
    let proc = await spawnServer(args);
    procs.push(proc);
    const url = proc.url;

    const a = track(device(url));
    const b = track(device(url));
    await a.sync.start();
    await b.sync.start();
    await a.db.cards.put({ id: 'counter', board: '1', title: 'likes', likes: 0 });
    await converged(a);
    await converged(b);

    let writing = true;
    const written = new Map<Device, string[]>([
      [a, []],
      [b, []],
    ]);
    let incs = 0;
    const writer = async (d: Device, tag: string) => {
      for (let i = 0; writing; i++) {
        const id = `${tag}-${i}`;
        await d.db.cards.put({ id, board: '1', title: `${tag} #${i}` });
        written.get(d)!.push(id);
        if (i % 4 === 0 && (await d.db.cards.update('counter', { likes: dexieAdd(1) })) === 1) incs++;
        await new Promise((r) => setTimeout(r, 3)); // pacing, so sync runs between writes
      }
    };
    const acked = async (d: Device) => {
      const pending = await outboxKeys(d);
      return written.get(d)!.filter((id) => !pending.has(id));
    };
    const writers = Promise.all([writer(a, 'a'), writer(b, 'b')]);

    await eventually(
      async () => (await acked(a)).length >= 15 && (await acked(b)).length >= 15,
      'writes were not acknowledged before the kill',
      20_000,
    );
    proc.proc.kill('SIGKILL');
    expect(await proc.exited).toBe('SIGKILL');
    // Nothing can be acknowledged any more: take the acked sets, keep writing offline.
    a.network.set(false);
    b.network.set(false);
    const ackedBefore = [...(await acked(a)), ...(await acked(b))];
    expect(ackedBefore.length).toBeGreaterThanOrEqual(30);

    proc = await spawnServer(args);
    procs.push(proc);
    expect(proc.url).toBe(url);
    // A fresh reader sees what the restarted server has before a and b push anything again.
    const reader = track(device(url));
    await reader.sync.start();
    await converged(reader);
    const onServer = new Set((await reader.db.cards.toArray()).map((c) => c.id));
    expect(ackedBefore.filter((id) => !onServer.has(id))).toEqual([]);

    a.network.set(true);
    b.network.set(true);
    const countAfter = ackedBefore.length;
    await eventually(
      async () => (await acked(a)).length + (await acked(b)).length >= countAfter + 20,
      'no writes were acknowledged after the restart',
      20_000,
    );
    writing = false;
    await writers;

    const deadline = Date.now() + 20_000;
    let hashes: string[] = [];
    do {
      hashes = [];
      for (const d of [a, b, reader]) hashes.push(await converged(d, SCOPE, 20_000));
    } while (new Set(hashes).size > 1 && Date.now() < deadline);
    expect(new Set(hashes).size).toBe(1);
    for (const d of [a, b]) expect(await outboxKeys(d)).toEqual(new Set());
    const final = new Set((await reader.db.cards.toArray()).map((c) => c.id));
    const all = [...written.get(a)!, ...written.get(b)!];
    expect(all.filter((id) => !final.has(id))).toEqual([]);
    expect(final.size).toBe(all.length + 1);
    expect((await reader.db.cards.get('counter'))?.likes).toBe(incs);
    expect((await a.db.cards.get('counter'))?.likes).toBe(incs);
    expect((await b.db.cards.get('counter'))?.likes).toBe(incs);
  });
});

describe('failover', () => {
  it('backs off from a dead URL and reaches the next one', async () => {
    const storage = new MemoryStorage();
    const server = await serve(storage);
    const dead = `http://127.0.0.1:${await freePort()}`;
    const a = track(device(server.url, { client: { url: [dead, server.url] } }));
    // errors$ reports every failure as it happens (the engine backs off on each); status$ is a
    // state, which can pass over a backoff shorter than its first read of the local counts.
    const errors: string[] = [];
    const sub = a.sync.errors$.subscribe((e) => errors.push(`${e.code} ${e.retryable} ${e.message}`));
    onTestFinished(() => sub.unsubscribe());
    await a.sync.start();
    await until(a.sync, settled);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^internal true cannot connect to ${dead}`));

    const b = track(device(server.url));
    await b.sync.start();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'via the second url' });
    await converged(a);
    await converged(b);
    expect(await b.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'via the second url' });
    expect(await socketIdsOf(server.server, a.sync.clientId)).toHaveLength(1);
  });
});

describe('a handshake lost on the link', () => {
  it('gives up the attempt after requestTimeoutMs and connects once the link heals', async () => {
    const server = await serve();
    const proxy = await startFaultProxy(server.url, mulberry32(7));
    onTestFinished(() => proxy.close());
    // Every client frame is lost: the transport opens (the server speaks first) but the
    // Socket.IO CONNECT never arrives, so no `hello` comes back and nothing fails on its own.
    proxy.set('up', { drop: 1 });
    const a = track(device(proxy.url, { client: { requestTimeoutMs: 600 } }));
    const errors: string[] = [];
    const sub = a.sync.errors$.subscribe((e) => errors.push(e.message));
    onTestFinished(() => sub.unsubscribe());
    await a.sync.start();
    await eventually(
      () => errors.some((m) => m.startsWith('no answer from')),
      'the lost handshake to fail on its own',
      5_000,
    );
    proxy.heal();
    await a.db.cards.put({ id: 'h1', board: '1', title: 'after the heal' });
    await until(a.sync, settled, 10_000);
    expect((await server.storage.getRecord(SCOPE_ID, 'cards', 'h1'))?.value).toMatchObject({
      title: 'after the heal',
    });
  });
});

describe('pause and resume', () => {
  it('pushes nothing while paused and syncs both ways after resume', async () => {
    const storage = new MemoryStorage();
    const server = await serve(storage);
    const a = track(device(server.url));
    const b = track(device(server.url));
    await a.sync.start();
    await b.sync.start();
    await a.db.cards.put({ id: 'c0', board: '1', title: 'before pause' });
    await converged(a);
    await converged(b);
    const head = await storage.head(SCOPE_ID);

    a.sync.pause();
    await until(a.sync, (s) => s.phase === 'paused' && !s.connected);
    await eventually(
      async () => (await socketIdsOf(server.server, a.sync.clientId)).length === 0,
      'the paused client kept its connection',
    );
    const connections = countConnections(server);
    await a.db.cards.put({ id: 'c1', board: '1', title: 'written while paused' });
    await until(a.sync, (s) => s.pending === 1 && s.phase === 'paused');
    // b does a full round trip meanwhile; a paused client must neither push nor receive.
    await b.db.cards.put({ id: 'c2', board: '1', title: 'written by b' });
    await converged(b);
    expect(await storage.head(SCOPE_ID)).toBe(head + 1);
    expect(await serverValue(storage, 'c1')).toBeUndefined();
    expect(await a.db.cards.get('c2')).toBeUndefined();
    expect(connections()).toBe(0);
    expect((await until(a.sync, () => true)).pending).toBe(1);

    a.sync.resume();
    await converged(a);
    await converged(b);
    expect(await storage.head(SCOPE_ID)).toBe(head + 2);
    expect(await b.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'written while paused' });
    expect(await a.db.cards.get('c2')).toEqual({ id: 'c2', board: '1', title: 'written by b' });
  });
});

describe('interrupted while a push is being prepared', () => {
  it('close() returns promptly and a reopened client pushes the write', async () => {
    const storage = new MemoryStorage();
    const server = await serve(storage);
    const name = dbName('close-mid-push');
    const first = device(server.url, { name });
    await first.sync.start();
    await until(first.sync, settled);
    let closing: Promise<void> | undefined;
    let closedAt = 0;
    await onNextPush(first, () => {
      closedAt = Date.now();
      closing = first.sync.close();
    });
    await first.db.cards.put({ id: 'c1', board: '1', title: 'racing close' });
    await eventually(() => closing !== undefined, 'the client never started pushing');
    await closing;
    // requestTimeoutMs is 5 s in these tests (15 s by default): close must not wait for it.
    expect(Date.now() - closedAt).toBeLessThan(1_000);

    const second = track(device(server.url, { name }));
    await second.sync.start();
    await converged(second);
    expect(await serverValue(storage, 'c1')).toEqual({ id: 'c1', board: '1', title: 'racing close' });
  });

  const blips: [string, (d: Device) => void][] = [
    [
      'network off and on',
      (d) => {
        d.network.set(false);
        d.network.set(true);
      },
    ],
    [
      'pause() and resume()',
      (d) => {
        d.sync.pause();
        d.sync.resume();
      },
    ],
  ];
  for (const [what, blip] of blips) {
    it(`${what} does not stall sync until the request timeout`, async () => {
      const storage = new MemoryStorage();
      const server = await serve(storage);
      const a = track(device(server.url));
      const b = track(device(server.url));
      await a.sync.start();
      await b.sync.start();
      await until(a.sync, settled);
      const fired = await onNextPush(a, () => blip(a));
      await a.db.cards.put({ id: 'c1', board: '1', title: 'pushed across a blip' });
      const started = Date.now();
      await eventually(fired, 'the client never started pushing');
      await converged(a);
      await converged(b);
      // Reconnecting takes a backoff step (20-200 ms here), not requestTimeoutMs (5 s here).
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await b.db.cards.get('c1')).toEqual({ id: 'c1', board: '1', title: 'pushed across a blip' });
    });
  }
});
