/**
 * The sync engine's decisions, tested on their own: no socket, no Dexie, no timers.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChangeSchema, MutationSchema, syncError, type Change } from '@syncline/protocol';
import { SynclineError } from '../src/errors.js';
import { highestOwnMid, includedFor, onGap } from '../src/engine/live-changes.js';
import { liveFit } from '../src/store/live-fit.js';
import {
  failureOf,
  nextStep,
  syncNowRefusal,
  waitsOutBackoff,
  type LoopView,
} from '../src/engine/loop-step.js';
import { beginsCopy, progressAfter } from '../src/engine/pull-scope.js';
import {
  afterRead,
  cutBatch,
  endUnknown,
  headIsEnough,
  isDrained,
  nextPushAfter,
  noticed,
  PUSH_WINDOW,
  quarantineStep,
  refusedForGood,
  UNREAD_OUTBOX,
  type OutboxView,
} from '../src/engine/push-decisions.js';
import { ConnectError, RequestFailed } from '../src/engine/transport.js';
import { WakeSignal } from '../src/engine/wake-signal.js';
import { WriteQueue } from '../src/engine/write-queue.js';
import type { OutboxEntry } from '../src/store/schema.js';

/** An outbox entry for mid `mid`, in txn `txn` if given, its value padded to about `bytes`. */
function entry(mid: number, txn?: string, bytes = 10): OutboxEntry {
  const mutation = MutationSchema.parse({
    mid,
    scope: 's',
    collection: 'cards',
    id: `r${mid}`,
    base: 0,
    op: 'put',
    value: { pad: 'x'.repeat(bytes) },
    ...(txn !== undefined ? { txn } : {}),
  });
  return { mid, table: 'cards', key: `r${mid}`, mutation, createdAt: 0 };
}

const mids = (entries: readonly OutboxEntry[]) => entries.map((e) => e.mid);
const range = (from: number, to: number, txn?: string) =>
  Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, txn));

describe('what to push next', () => {
  it('reads after the last mid on the wire, until the window is full or the outbox drained', () => {
    expect(nextPushAfter([], false)).toBe(0);
    expect(nextPushAfter([{ batch: range(3, 5) }], false)).toBe(5);
    const full = Array.from({ length: PUSH_WINDOW }, (_, i) => ({ batch: [entry(i + 1)] }));
    expect(nextPushAfter(full, false)).toBeUndefined();
    expect(nextPushAfter([{ batch: [entry(1)] }], true)).toBeUndefined();
  });

  it('cuts the head at the count limit', () => {
    expect(mids(cutBatch(range(1, 5), 3, 1_000_000))).toEqual([1, 2, 3]);
    expect(cutBatch([], 3, 1_000_000)).toEqual([]);
  });

  it('keeps a batch under half the payload limit, but always sends at least one entry', () => {
    const big = [entry(1, undefined, 400), entry(2, undefined, 400), entry(3, undefined, 400)];
    expect(mids(cutBatch(big, 10, 2_400))).toEqual([1, 2]);
    expect(mids(cutBatch(big, 10, 100))).toEqual([1]);
  });

  it('never splits a txn: cuts before one that crosses the limit, sends one that starts it whole', () => {
    const crossing = [...range(1, 2), ...range(3, 4, 't')];
    expect(mids(cutBatch(crossing, 3, 1_000_000))).toEqual([1, 2]);
    const leading = [...range(1, 4, 't'), entry(5)];
    expect(mids(cutBatch(leading, 2, 1_000_000))).toEqual([1, 2, 3, 4]);
  });

  it('reads more of the head only while a txn that starts it runs past the read', () => {
    expect(headIsEnough(range(1, 2), 3)).toBe(true); // the outbox's end
    expect(headIsEnough(range(1, 3), 3)).toBe(true); // no txn at the head
    expect(headIsEnough(range(1, 3, 't'), 3)).toBe(false);
    expect(headIsEnough([...range(1, 2, 't'), entry(3)], 3)).toBe(true);
  });
});

describe('is the outbox drained', () => {
  const read = (view: OutboxView, head: OutboxEntry[], batch = head, news = view.vagueNews) =>
    afterRead(view, head, batch, news);

  it('only once a read saw its end', () => {
    expect(isDrained(UNREAD_OUTBOX)).toBe(false);
    const partial = read(UNREAD_OUTBOX, range(1, 3), range(1, 2));
    expect(partial.highestRead).toBe(2);
    expect(isDrained(partial)).toBe(false);
    expect(isDrained(read(partial, []))).toBe(true);
  });

  it('not while entries read past the batch are unsent, though every notice names them', () => {
    const drained = read(UNREAD_OUTBOX, range(1, 2));
    // One write queued 3…13; a push holds 10: the read takes one more to see where a txn ends.
    const notified = noticed(drained, 13)!;
    const first = read(notified, range(3, 13), range(3, 12));
    expect(isDrained(first)).toBe(false);
    expect(noticed(first, 13)).toBeDefined();
    expect(isDrained(read(first, range(13, 13)))).toBe(true);
  });

  it('until a notice of an entry not read yet; entries already read are no news', () => {
    const drained = read(UNREAD_OUTBOX, range(1, 2));
    expect(noticed(drained, 2)).toBeUndefined();
    const grown = noticed(drained, 3)!;
    expect(isDrained(grown)).toBe(false);
    expect(isDrained(read(grown, [entry(3)]))).toBe(true);
  });

  it('until a vague notice is covered by a read that began after it', () => {
    const drained = read(UNREAD_OUTBOX, range(1, 2));
    const vague = noticed(drained)!;
    expect(isDrained(vague)).toBe(false);
    // A read that began before the notice may have missed the entry it announced.
    expect(isDrained(read(vague, [], [], drained.vagueNews))).toBe(false);
    expect(isDrained(read(vague, []))).toBe(true);
  });

  it('no longer once the window was dropped (its batches are unsent again)', () => {
    const drained = read(UNREAD_OUTBOX, range(1, 2));
    expect(isDrained(endUnknown(drained))).toBe(false);
    expect(endUnknown(drained).highestRead).toBe(2);
  });
});

describe('a refused push', () => {
  it('is quarantined only when refused for good, and not for a mid gap', () => {
    expect(refusedForGood(syncError('payload_too_large', 'x'))).toBe(true);
    expect(refusedForGood(syncError('mid_gap', 'x'))).toBe(false);
    expect(refusedForGood(syncError('rate_limited', 'x'))).toBe(false);
    expect(refusedForGood(syncError('internal', 'x'))).toBe(false);
    // Who the device is, not what it sent: never quarantined.
    expect(refusedForGood(syncError('client_id_mismatch', 'x'))).toBe(false);
    expect(refusedForGood(syncError('unauthenticated', 'x'))).toBe(false);
  });

  it('isolates the offender one entry at a time; a lone entry or a txn is replaced', () => {
    expect(quarantineStep(range(1, 3))).toBe('isolate');
    expect(quarantineStep([entry(1)])).toBe('replace');
    expect(quarantineStep(range(1, 3, 't'))).toBe('replace');
  });
});

describe('is this live change stale, applicable, or a gap', () => {
  it('against the cursor', () => {
    expect(liveFit(10, 7, 3)).toBe('stale'); // versions 8..10
    expect(liveFit(10, 11, 2)).toBe('gap'); // version 11 is missing
    expect(liveFit(10, 10, 2)).toEqual({ skip: 0 });
    expect(liveFit(10, 8, 5)).toEqual({ skip: 2 }); // 9 and 10 are had, 11..13 are new
  });

  it('holds a gap while pushes are in flight (they may fill it), else pulls', () => {
    expect(onGap(true)).toBe('hold');
    expect(onGap(false)).toBe('pull');
  });

  const ME = 'client-me';
  const OTHER = 'client-other';

  it("counts this client's own mids as included, never below the floor", () => {
    const change = (clientId: string | null, mid: number | null): Change =>
      ChangeSchema.parse({ collection: 'cards', id: 'r', version: 1, value: null, clientId, mid });
    expect(includedFor(change(ME, 7), ME, 3)).toBe(7);
    expect(includedFor(change(ME, 2), ME, 3)).toBe(3);
    expect(includedFor(change(OTHER, 9), ME, 3)).toBe(3);
    expect(includedFor(change(null, null), ME, 3)).toBe(3);
    const fresh = [change(ME, 4), change(OTHER, 12), change(ME, 6)];
    expect(highestOwnMid(fresh, ME, 5)).toBe(6);
    expect(highestOwnMid(fresh, ME, 8)).toBe(8);
  });
});

describe('a pulled page', () => {
  it('begins the copy anew from nothing or on reset', () => {
    expect(beginsCopy(0, { reset: false })).toBe(true);
    expect(beginsCopy(5, { reset: true })).toBe(true);
    expect(beginsCopy(5, { reset: false })).toBe(false);
  });

  it('reports progress from where the pull began to the head', () => {
    expect(progressAfter(10, { reset: false, upTo: 40, head: 100, hasMore: true })).toEqual({
      from: 10,
      cursor: 40,
      head: 100,
      done: false,
    });
    expect(progressAfter(10, { reset: true, upTo: 40, head: 30, hasMore: false })).toEqual({
      from: 0,
      cursor: 40,
      head: 40,
      done: true,
    });
    // Live changes overtook the prefetched page: it only repeats versions.
    expect(progressAfter(50, { reset: false, upTo: 40, head: 60, hasMore: true }).from).toBe(40);
  });
});

describe('the loop', () => {
  const view: LoopView = { paused: false, online: true, connected: true, pullsWanted: 0, pushWanted: false };

  it('picks the next phase in priority order', () => {
    expect(nextStep(view)).toBe('live');
    expect(nextStep({ ...view, pushWanted: true })).toBe('push');
    expect(nextStep({ ...view, pushWanted: true, pullsWanted: 1 })).toBe('pull');
    expect(nextStep({ ...view, pullsWanted: 1, connected: false })).toBe('connect');
    expect(nextStep({ ...view, connected: false, online: false })).toBe('offline');
    expect(nextStep({ ...view, online: false, paused: true })).toBe('paused');
  });

  it("reports the server's error when it gave one, else an internal one", () => {
    const refused = syncError('forbidden', 'no');
    expect(failureOf(new RequestFailed(refused))).toBe(refused);
    expect(failureOf(new ConnectError(refused))).toBe(refused);
    expect(failureOf(new Error('boom'))).toMatchObject({ code: 'internal', message: 'boom' });
    expect(failureOf('odd')).toMatchObject({ code: 'internal', message: 'odd' });
  });

  it('waits out a backoff only while it still runs, online and not paused', () => {
    const running = { stopped: false, paused: false, online: true };
    expect(waitsOutBackoff(running)).toBe(true);
    expect(waitsOutBackoff({ ...running, stopped: true })).toBe(false);
    expect(waitsOutBackoff({ ...running, paused: true })).toBe(false);
    expect(waitsOutBackoff({ ...running, online: false })).toBe(false);
  });

  it('refuses syncNow with a SynclineError when stopped, paused or offline', () => {
    const running = { stopped: false, paused: false, online: true };
    expect(syncNowRefusal(running)).toBeUndefined();
    const stopped = syncNowRefusal({ ...running, stopped: true });
    expect(stopped).toBeInstanceOf(SynclineError);
    expect(stopped).toMatchObject({ code: 'closed', retryable: false });
    expect(syncNowRefusal({ ...running, paused: true, online: false })).toMatchObject({
      code: 'offline',
      message: 'sync is paused',
    });
    expect(syncNowRefusal({ ...running, online: false })).toMatchObject({
      code: 'offline',
      message: 'the network is offline',
    });
  });
});

describe('the write queue', () => {
  it('runs writes one after another, past a failed one', async () => {
    const queue = new WriteQueue();
    const log: string[] = [];
    let release!: () => void;
    const first = queue.run(async () => {
      log.push('first starts');
      await new Promise<void>((r) => (release = r));
      log.push('first ends');
    });
    const failed = queue.run(() => Promise.reject(new Error('no')));
    const third = queue.run(async () => {
      log.push('third');
      return 3;
    });
    await Promise.resolve();
    expect(log).toEqual(['first starts']);
    release();
    await first;
    await expect(failed).rejects.toThrow('no');
    expect(await third).toBe(3);
    await queue.idle();
    expect(log).toEqual(['first starts', 'first ends', 'third']);
  });
});

describe('the wake signal', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ends a sleep at its timer or at a wake, whichever comes first', async () => {
    vi.useFakeTimers();
    const signal = new WakeSignal();
    let timedOut = false;
    const timed = signal.sleep(1000).then(() => (timedOut = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(timedOut).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await timed;
    expect(timedOut).toBe(true);

    const early = signal.sleep(1000);
    signal.wake();
    await early;
    expect(vi.getTimerCount()).toBe(0); // the backoff timer is cleared
  });

  it('sleeps without a timer until woken; a wake with nobody asleep is dropped', async () => {
    vi.useFakeTimers();
    const signal = new WakeSignal();
    signal.wake();
    let woken = false;
    const sleeping = signal.sleep().then(() => (woken = true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(woken).toBe(false);
    signal.wake();
    await sleeping;
    expect(woken).toBe(true);
  });
});
