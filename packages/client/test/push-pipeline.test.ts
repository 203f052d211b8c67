import { describe, expect, it } from 'vitest';
import { asScopeId, asVersion } from '@syncline/protocol';
import { filter, firstValueFrom } from 'rxjs';
import { MemoryStorage, type StorageTx } from '@syncline/server';
import { FaultyStorage } from './faults.js';
import { converged, until } from './helpers.js';
import { scenario } from './scenario.js';

const env = scenario();

/**
 * Memory storage whose transactions wait `delayMs` before they start, so a push stays
 * unanswered a while; `onDone` runs as each one resolves (the server answers right after).
 */
class SlowStorage extends FaultyStorage {
  constructor(
    private readonly delayMs: number,
    private readonly onDone: () => void,
  ) {
    super(new MemoryStorage());
  }

  override async transaction<T>(
    fn: (tx: StorageTx) => Promise<T>,
    onCommit?: (result: T) => void,
  ): Promise<T> {
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    try {
      return await super.transaction(fn, onCommit);
    } finally {
      this.onDone();
    }
  }
}

describe('push pipeline', () => {
  it('sends the next batch before the last is answered; the server applies them in mid order, once', async () => {
    // In order: each push as the server receives it, and each push transaction as it ends.
    const log: ({ recv: number[] } | 'done')[] = [];
    const storage = new SlowStorage(20, () => log.push('done'));
    const running = await env.server({ storage });
    running.server.io.on('connection', (socket) => {
      socket.onAny((event: string, payload: { mutations?: { mid: number }[] }) => {
        if (event === 'push') log.push({ recv: (payload.mutations ?? []).map((m) => m.mid) });
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
});
