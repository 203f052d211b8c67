import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { asMid, asScopeId, asVersion } from '@syncline/protocol';
import { filter, firstValueFrom } from 'rxjs';
import { MemoryStorage, type StorageTx } from '@syncline/server';
import { FaultyStorage } from '@syncline/test-support/server';
import { converged, device, until } from '@syncline/test-support/devices';
import { next, scenario } from '../helpers/scenario.js';

const env = scenario();

/**
 * Memory storage whose transactions first wait for `hold()`, then `delayMs`, so a push stays
 * unanswered a while; `onDone` runs as each one resolves (the server answers right after).
 */
class SlowStorage extends FaultyStorage {
  constructor(
    private readonly delayMs: number,
    private readonly hold: () => Promise<void>,
    private readonly onDone: () => void,
  ) {
    super(new MemoryStorage());
  }

  override async transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit?: (result: T) => void,
  ): Promise<T> {
    await this.hold();
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    try {
      return await super.transaction(fn, onCommit);
    } finally {
      this.onDone();
    }
  }
}

/** Starts the server; every push frame it receives, as its mids, in arrival order. */
async function serverRecordingPushes(): Promise<number[][]> {
  const running = await env.server();
  const pushes: number[][] = [];
  running.server.io.on('connection', (socket) => {
    socket.onAny((event: string, payload: { mutations?: { mid: number }[] }) => {
      if (event === 'push') pushes.push((payload.mutations ?? []).map((m) => m.mid));
    });
  });
  return pushes;
}

/**
 * Counts the push pipeline's reads of the outbox head (a `getAll` of the entries after a mid,
 * with a count) until the test ends.
 */
function countOutboxHeadReads(): { count(): number } {
  let reads = 0;
  const original = Reflect.get<IDBObjectStore, 'getAll'>(IDBObjectStore.prototype, 'getAll');
  const spy = vi.spyOn(IDBObjectStore.prototype, 'getAll').mockImplementation(function (
    this: IDBObjectStore,
    ...args: Parameters<IDBObjectStore['getAll']>
  ) {
    const [query, count] = args;
    if (
      this.name === '_syncline_outbox' &&
      query instanceof IDBKeyRange &&
      query.lowerOpen &&
      count !== undefined
    )
      reads++;
    return original.apply(this, args);
  });
  onTestFinished(() => spy.mockRestore());
  return { count: () => reads };
}

describe('push pipeline', () => {
  it('sends the next batch before the last is answered; the server applies them in mid order, once', async () => {
    // In order: each push as the server receives it, and each push transaction as it ends.
    const log: ({ recv: number[] } | 'done')[] = [];
    // The first push's transaction waits until a second push arrives (or 2 s pass: a client
    // that waits for each answer before sending the next never sends it), so the overlap is
    // decided by the client's order of sending, not by how fast a loaded machine runs it.
    let secondPush!: () => void;
    const secondArrived = new Promise<void>((resolve) => (secondPush = resolve));
    const hold = () => Promise.race([secondArrived, new Promise<void>((r) => setTimeout(r, 2_000))]);
    const storage = new SlowStorage(20, hold, () => log.push('done'));
    const running = await env.server({ storage });
    running.server.io.on('connection', (socket) => {
      socket.onAny((event: string, payload: { mutations?: { mid: number }[] }) => {
        if (event !== 'push') return;
        log.push({ recv: (payload.mutations ?? []).map((m) => m.mid) });
        if (log.filter((e) => e !== 'done').length >= 2) secondPush();
      });
    });
    const a = await env.device({ online: false, client: { limits: { maxMutationsPerPush: 10 } } });
    const b = await env.device();
    for (let i = 0; i < 60; i++) await a.db.cards.put({ id: `c${i}`, board: '1', title: `card ${i}` });
    a.network.set(true);
    await converged(a);
    await converged(b);

    const pushes = log.flatMap((e) => (e === 'done' ? [] : [e.recv]));
    expect(pushes.flat()).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(pushes).toHaveLength(6);
    // Pipelined: a push arrived while the one before it was unanswered, never more than two.
    let unanswered = 0;
    let peak = 0;
    for (const e of log) peak = Math.max(peak, (unanswered += e === 'done' ? -1 : 1));
    expect(peak).toBe(2);
    expect(await b.db.cards.count()).toBe(60);
    // Each mutation applied once: one version per card.
    expect((await storage.pull(asScopeId('board:1'), asVersion(0), 100)).head).toBe(60);
  });

  it('drops the window behind a batch refused whole and resends it: nothing lost, the offender reported', async () => {
    await env.server({ limits: { maxRecordBytes: 2_000 } });
    const a = await env.device({ online: false, client: { limits: { maxMutationsPerPush: 2 } } });
    const b = await env.device();
    // Batches of 2: [ok0, ok1], [ok2, big] (refused whole by the server), [ok3, ok4] in flight
    // behind it (refused as a gap), …
    for (let i = 0; i < 3; i++) await a.db.cards.put({ id: `ok${i}`, board: '1', title: `ok ${i}` });
    await a.db.cards.put({ id: 'big', board: '1', title: 'x'.repeat(5_000) });
    for (let i = 3; i < 9; i++) await a.db.cards.put({ id: `ok${i}`, board: '1', title: `ok ${i}` });
    a.network.set(true);

    const rejections = await firstValueFrom(a.sync.rejections$.pipe(filter((r) => r.length > 0)));
    expect(rejections.map((r) => [r.id, r.error.code])).toEqual([['big', 'record_too_large']]);
    await converged(a);
    await converged(b);
    const ids = (await b.db.cards.toArray()).map((c) => c.id).sort();
    expect(ids).toEqual(Array.from({ length: 9 }, (_, i) => `ok${i}`));
    expect(await a.db.cards.get('big')).toBeUndefined();
    expect((await until(a.sync, (s) => s.pending === 0)).rejections).toBe(1);
  });

  it('sends every entry of a bulk write larger than one push made while online and drained', async () => {
    // Regression: a read that returned one entry past the batch counted it as read, and with
    // the outbox known drained before and every notice covered, the rest stayed unsent.
    const pushes = await serverRecordingPushes();
    const a = await env.device({ client: { limits: { maxMutationsPerPush: 10 } } });
    await a.db.cards.put({ id: 'first', board: '1', title: 'drains the outbox' });
    await converged(a);
    await a.db.cards.bulkPut(
      Array.from({ length: 11 }, (_, i) => ({ id: `c${i}`, board: '1', title: `card ${i}` })),
    );
    await converged(a);
    expect(await a.db.table('_syncline_outbox').count()).toBe(0);
    expect(pushes.flat()).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it("pushes this tab's writes from memory once the outbox is drained; what it did not queue is read", async () => {
    const pushes = await serverRecordingPushes();
    const heads = countOutboxHeadReads();
    const a = await env.device({ online: false });
    // Queued offline: only a read of the outbox finds these.
    for (let i = 0; i < 3; i++) await a.db.cards.put({ id: `off${i}`, board: '1', title: `offline ${i}` });
    a.network.set(true);
    await converged(a);
    const afterOffline = heads.count();
    expect(afterOffline).toBeGreaterThan(0);
    // Drained and connected: each write is pushed from what its transaction queued.
    for (let i = 0; i < 5; i++) {
      await a.db.cards.put({ id: `on${i}`, board: '1', title: `online ${i}` });
      await converged(a);
    }
    await a.db.cards.bulkPut(
      Array.from({ length: 4 }, (_, i) => ({ id: `bulk${i}`, board: '1', title: `${i}` })),
    );
    await converged(a);
    expect(heads.count()).toBe(afterOffline);
    expect(pushes.flat()).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const b = await env.device();
    await converged(b);
    expect(await b.db.cards.count()).toBe(12);
  });
});

/** Memory storage that can hold the next transaction's answer back after it committed. */
class LateAnswerStorage extends FaultyStorage {
  /** Milliseconds the next transaction's caller waits after its commit (and its broadcast). */
  delayNext = 0;

  constructor() {
    super(new MemoryStorage());
  }

  override async transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit?: (result: T) => void,
  ): Promise<T> {
    const delay = this.delayNext;
    this.delayNext = 0;
    const result = await super.transaction(fn, onCommit);
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return result;
  }
}

describe('own commits', () => {
  /** Starts the server and counts the pulls each client id makes. */
  async function serverCountingPulls(storage: LateAnswerStorage) {
    const running = await env.server({ storage });
    const pulls = new Map<string, number>();
    running.server.io.on('connection', (socket) => {
      const id = String((socket.handshake.auth as { clientId?: unknown }).clientId);
      socket.onAny((event: string) => {
        if (event === 'pull') pulls.set(id, (pulls.get(id) ?? 0) + 1);
      });
    });
    return (clientId: string) => pulls.get(clientId) ?? 0;
  }

  const cursorOf = async (d: { db: { table(name: string): { get(key: string): Promise<unknown> } } }) =>
    ((await d.db.table('_syncline_scopes').get('board:1')) as { cursor: number } | undefined)?.cursor;

  it('moves the cursor over its own commits from the push response, without a broadcast or a pull', async () => {
    const storage = new LateAnswerStorage();
    const pullsOf = await serverCountingPulls(storage);
    const a = await env.device();
    await converged(a);
    const pulls = pullsOf(a.sync.clientId);
    for (let i = 0; i < 3; i++) await a.db.cards.put({ id: `c${i}`, board: '1', title: `card ${i}` });
    await converged(a);
    expect(await storage.head(asScopeId('board:1'))).toBe(3);
    expect(await cursorOf(a)).toBe(3);
    expect(pullsOf(a.sync.clientId)).toBe(pulls);
  });

  it("holds another client's change that arrives before its own push is answered, then applies it without a pull", async () => {
    const storage = new LateAnswerStorage();
    const pullsOf = await serverCountingPulls(storage);
    const a = await env.device();
    const b = await env.device();
    await converged(a);
    await converged(b);
    const pulls = pullsOf(a.sync.clientId);

    // A's push commits version 1 (broadcast to B at once) but its answer comes 300 ms late.
    storage.delayNext = 300;
    await a.db.cards.put({ id: 'mine', board: '1', title: 'from A' });
    await next(
      b.sync.liveQuery(() => b.db.cards.get('mine')),
      (c) => c !== undefined,
    );
    // B commits version 2; its broadcast reaches A while A still waits for the answer to 1.
    await b.db.cards.put({ id: 'theirs', board: '1', title: 'from B' });
    await converged(b);
    await next(
      a.sync.liveQuery(() => a.db.cards.get('theirs')),
      (c) => c?.title === 'from B',
    );
    await converged(a);
    expect(await cursorOf(a)).toBe(2);
    expect(pullsOf(a.sync.clientId)).toBe(pulls);
  });
});

describe('acknowledged writes', () => {
  it('leave the app rows alone when applied as sent: a live query does not re-run, the values stay right', async () => {
    await env.server();
    const a = await env.device({ online: false, client: { limits: { maxMutationsPerPush: 1 } } });
    await a.db.cards.put({ id: 'c1', board: '1', title: 'one' });
    await a.db.cards.update('c1', { title: 'two' });
    await a.db.cards.update('c1', { status: 'doing' });
    const seen: unknown[] = [];
    const sub = a.sync.liveQuery(() => a.db.cards.get('c1')).subscribe((c) => seen.push(c));
    try {
      await next(
        a.sync.liveQuery(() => a.db.cards.get('c1')),
        (c) => c !== undefined,
      );
      // Three acks, one per push, each with mutations still pending behind it until the last.
      a.network.set(true);
      await converged(a);
      const expected = { id: 'c1', board: '1', title: 'two', status: 'doing' };
      expect(await a.db.cards.get('c1')).toEqual(expected);
      expect(seen).toEqual([expected]);
      // The confirmed copy is dropped once nothing is pending.
      const meta = (await a.db.table('_syncline_records').get(['cards', 'c1'])) as Record<string, unknown>;
      expect(meta).toMatchObject({ version: 3, includedMid: 3 });
      expect('confirmed' in meta).toBe(false);
      // A change from elsewhere still reaches the query.
      const b = await env.device();
      await converged(b);
      await b.db.cards.update('c1', { title: 'three' });
      await vi.waitFor(() => expect(seen.at(-1)).toEqual({ ...expected, title: 'three' }));
    } finally {
      sub.unsubscribe();
    }
  });
});

describe('first sync', () => {
  it("lets the app's live queries read between pull pages: a list fills before the sync is done", async () => {
    const running = await env.server();
    // 3,000 records: six pages of 500.
    for (let start = 0; start < 3_000; start += 500) {
      const res = await running.server.applyMutations(
        { id: 'seeder' },
        Array.from({ length: 500 }, (_, i) => ({
          mid: asMid(start + i + 1),
          scope: asScopeId('board:1'),
          collection: 'cards',
          id: `s${String(start + i).padStart(5, '0')}`,
          op: 'put' as const,
          base: asVersion(0),
          value: { id: `s${String(start + i).padStart(5, '0')}`, board: '1', title: `seeded ${start + i}` },
        })),
      );
      expect(res.ok).toBe(true);
    }
    const b = device(running.url, { client: { pullPageSize: 500 } });
    // What an app's list shows while the first sync runs, and what the status says then.
    const shown: { rows: number; done: boolean }[] = [];
    let done = false;
    const statusSub = b.sync.status$.subscribe((s) => (done = s.initialSync.done));
    const listSub = b.sync
      .liveQuery(() => b.db.cards.limit(500).primaryKeys())
      .subscribe((keys) => shown.push({ rows: keys.length, done }));
    try {
      await b.sync.start();
      await converged(b);
      expect(await b.db.cards.count()).toBe(3_000);
      expect(shown.some((s) => s.rows === 500 && !s.done)).toBe(true);
    } finally {
      listSub.unsubscribe();
      statusSub.unsubscribe();
      await b.sync.close();
    }
  });
});
