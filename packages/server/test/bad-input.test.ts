import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, ERROR_CODES, asScopeId, type SyncError } from '@syncline/protocol';
import { startServer, type RunningServer } from '@syncline/test-support/server';
import {
  Arena,
  BAD_SCOPE,
  deepJsonText,
  emitJsonText,
  VICTIM,
  emitRaw,
  expectError,
  expectResults,
  nestedObject,
  nextDisconnect,
  pushRaw,
  putMutation,
} from './helpers/bad-input.js';

let running: RunningServer | undefined;
let arena: Arena | undefined;

afterEach(async () => {
  arena?.close();
  arena = undefined;
  await running?.stop();
  running = undefined;
});

async function open(opts: Parameters<typeof startServer>[0] = {}): Promise<Arena> {
  running = await startServer(opts);
  arena = await Arena.open(running);
  return arena;
}

/** A put of the victim record with this mid and value. */
const victimPut = (mid: number, value: unknown) => putMutation(mid, BAD_SCOPE, VICTIM, value);
const victimMutation = (mid: number, fields: Record<string, unknown>) => ({
  mid,
  scope: BAD_SCOPE,
  collection: 'notes',
  id: VICTIM,
  base: 0,
  ...fields,
});

describe('bad input: payload and record size', () => {
  it('refuses a payload a bit over maxPayloadBytes with payload_too_large', async () => {
    const a = await open();
    const max = DEFAULT_LIMITS.maxPayloadBytes;
    await a.refuse('payload_too_large', (mid) => {
      // Five records, each well under maxRecordBytes, that together exceed maxPayloadBytes, but
      // not the frame limit's margin (far larger frames are cut off: frame-limits.test.ts).
      const mutations = Array.from({ length: 5 }, (_, i) =>
        putMutation(mid + i, BAD_SCOPE, i === 0 ? VICTIM : `v${i}`, { s: 'x'.repeat(215_000) }),
      );
      const size = JSON.stringify({ mutations }).length;
      expect(size).toBeGreaterThan(max);
      expect(size).toBeLessThan(max + 32 * 1024);
      return pushRaw(a.bad, mutations);
    });
  });

  it('cuts off a socket that sends a 5 MB payload; the server and the other socket carry on', async () => {
    const a = await open();
    const before = await a.state();
    let acked = false;
    const disconnected = nextDisconnect(a.bad.socket);
    emitRaw(
      a.bad.socket,
      'push',
      { mutations: [victimPut(before.lastMid + 1, { s: 'x'.repeat(5_000_000) })] },
      () => {
        acked = true;
      },
    );
    const reason = await disconnected;
    expect(reason).toMatch(/transport/);
    expect(acked).toBe(false);
    await a.expectUnchanged(before);
    await a.expectGoodWorks();
    await a.reconnectBad();
    await a.expectMidFree(before.lastMid + 1);
  });

  it('refuses a record larger than maxRecordBytes with record_too_large', async () => {
    const a = await open();
    const max = DEFAULT_LIMITS.maxRecordBytes;
    await a.refuse('record_too_large', (mid) => pushRaw(a.bad, [victimPut(mid, { s: 'x'.repeat(max) })]));
    // Many small fields that add up.
    const fields = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`f${i}`, 'y'.repeat(100)]));
    await a.refuse('record_too_large', (mid) => pushRaw(a.bad, [victimPut(mid, fields)]));
    // A patch whose value alone is too large.
    await a.refuse('record_too_large', (mid) =>
      pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { set: { big: { s: 'x'.repeat(max) } } } })]),
    );
  });

  it('accepts a record of exactly maxRecordBytes and refuses one byte more', async () => {
    const a = await open();
    const max = DEFAULT_LIMITS.maxRecordBytes;
    const atLimit = { s: 'x'.repeat(max - 8) };
    expect(JSON.stringify(atLimit).length).toBe(max);
    await a.refuse('record_too_large', (mid) => pushRaw(a.bad, [victimPut(mid, { s: 'x'.repeat(max - 7) })]));
    const { lastMid, head } = await a.state();
    expect(expectResults(await pushRaw(a.bad, [victimPut(lastMid + 1, atLimit)]))).toEqual([
      { mid: lastMid + 1, status: 'applied', version: head + 1 },
    ]);
  });

  it('rejects a patch whose resulting record exceeds maxRecordBytes, leaving the record as it was', async () => {
    const a = await open();
    const { lastMid } = await a.state();
    const half = { s: 'x'.repeat(DEFAULT_LIMITS.maxRecordBytes / 2) };
    expectResults(await pushRaw(a.bad, [victimPut(lastMid + 1, { first: half })]));
    const before = await a.state();
    const results = expectResults(
      await pushRaw(a.bad, [
        {
          ...victimMutation(lastMid + 2, { op: 'patch', patch: { set: { second: half } } }),
          base: before.head,
        },
      ]),
    );
    expect(results).toHaveLength(1);
    const [r] = results;
    expect(r?.status).toBe('rejected');
    if (r?.status !== 'rejected') return;
    expect(r.error.code).toBe('record_too_large');
    expect(r.error.retryable).toBe(ERROR_CODES.record_too_large.retryable);
    const stored = await a.storage.head(asScopeId(BAD_SCOPE));
    expect(stored).toBe(before.head);
    const pulled = await a.bad.pull(BAD_SCOPE);
    expect(pulled.ok && pulled.changes.find((c) => c.id === VICTIM)?.value).toEqual({ first: half });
    await a.expectGoodWorks();
  });

  it('rejects a patch that reaches inside a Date tag (the result would not decode), leaving the record as it was', async () => {
    const a = await open();
    const { lastMid } = await a.state();
    const when = { $date: '2026-12-24T18:00:00.000Z' };
    expectResults(await pushRaw(a.bad, [victimPut(lastMid + 1, { when })]));
    const before = await a.state();
    const [r, ...rest] = expectResults(
      await pushRaw(a.bad, [
        {
          ...victimMutation(lastMid + 2, { op: 'patch', patch: { set: { 'when.x': 1 } } }),
          base: before.head,
        },
      ]),
    );
    expect(rest).toEqual([]);
    expect(r?.status).toBe('rejected');
    expect(await a.storage.head(asScopeId(BAD_SCOPE))).toBe(before.head);
    const pulled = await a.bad.pull(BAD_SCOPE);
    expect(pulled.ok && pulled.changes.find((c) => c.id === VICTIM)?.value).toEqual({ when });
    await a.expectGoodWorks();
  });

  it('measures a record by its JSON encoding, escaped characters included', async () => {
    // limits.ts: maxRecordBytes is the "largest record value, in bytes of its JSON encoding".
    // A string of 150,000 double quotes encodes to 300,002 characters (each `"` becomes `\"`).
    const a = await open();
    const value = { s: '"'.repeat(150_000) };
    expect(JSON.stringify(value).length).toBeGreaterThan(DEFAULT_LIMITS.maxRecordBytes);
    await a.refuse('record_too_large', (mid) => pushRaw(a.bad, [victimPut(mid, value)]));
  });
});

describe('bad input: nesting depth', () => {
  it('refuses 10,000-deep JSON with too_deep (as a record value, as the payload, on pull)', async () => {
    const a = await open();
    const deepObject = deepJsonText(10_000, 'object');
    const deepArray = deepJsonText(10_000, 'array');
    expect(deepObject.length).toBeGreaterThan(50_000);
    const pushWithValue = (mid: number, valueJson: string) =>
      emitJsonText(
        a.bad,
        'push',
        JSON.stringify({ mutations: [victimPut(mid, '@VALUE@')] }).replace('"@VALUE@"', valueJson),
      );
    await a.refuse('too_deep', (mid) => pushWithValue(mid, deepObject));
    await a.refuse('too_deep', (mid) => pushWithValue(mid, `{"list":${deepArray}}`));
    await a.refuse('too_deep', () => emitJsonText(a.bad, 'push', deepObject));
    await a.refuse('too_deep', () =>
      emitJsonText(a.bad, 'pull', `{"scope":"${BAD_SCOPE}","after":0,"deep":${deepObject}}`),
    );
    await a.refuse('too_deep', () => emitJsonText(a.bad, 'subscribe', `{"scopes":${deepArray}}`));
  });

  it('refuses depth 33 inside a record value and accepts depth 32', async () => {
    const a = await open();
    expect(DEFAULT_LIMITS.maxDepth).toBe(32);
    await a.refuse('too_deep', (mid) => pushRaw(a.bad, [victimPut(mid, nestedObject(33))]));
    // A patch that sets a 32-deep value under a top-level field would make the record 33 deep.
    await a.refuse('too_deep', (mid) =>
      pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { set: { x: nestedObject(32) } } })]),
    );
    const { lastMid, head } = await a.state();
    const ok = nestedObject(32);
    expect(expectResults(await pushRaw(a.bad, [victimPut(lastMid + 1, ok)]))).toEqual([
      { mid: lastMid + 1, status: 'applied', version: head + 1 },
    ]);
    const pulled = await a.bad.pull(BAD_SCOPE);
    expect(pulled.ok && pulled.changes.find((c) => c.id === VICTIM)?.value).toEqual(ok);
  });
});

describe('bad input: forbidden keys', () => {
  it('refuses __proto__, constructor and prototype in values, patch key paths and inc fields', async () => {
    const a = await open();
    const protoValue: unknown = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');
    expect(Object.keys(protoValue as object)).toContain('__proto__');
    const sends: ((mid: number) => Promise<unknown>)[] = [
      (mid) => pushRaw(a.bad, [victimPut(mid, protoValue)]),
      (mid) => pushRaw(a.bad, [victimPut(mid, { a: { constructor: { polluted: true } } })]),
      (mid) => pushRaw(a.bad, [victimPut(mid, { list: [{ prototype: 1 }] })]),
      (mid) => pushRaw(a.bad, [victimPut(mid, { nested: protoValue })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { set: { 'a.__proto__.b': 1 } } })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { set: { constructor: 1 } } })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { set: { 'x.prototype': 1 } } })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { unset: ['a.constructor'] } })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'patch', patch: { set: { x: protoValue } } })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'inc', field: '__proto__', by: 1 })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'inc', field: 'a.__proto__.b', by: 1 })]),
      (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'inc', field: 'constructor.prototype.x', by: 1 })]),
      () => a.bad.raw('pull', JSON.parse(`{"scope": "${BAD_SCOPE}", "after": 0, "__proto__": {}}`)),
    ];
    for (const send of sends) await a.refuse('forbidden_key', send);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('bad input: malformed messages', () => {
  it('refuses malformed push payloads with invalid_message', async () => {
    const a = await open();
    const payloads: ((mid: number) => unknown)[] = [
      () => 'not an object',
      () => 42,
      () => null,
      () => [],
      () => ({}),
      () => ({ mutations: [] }),
      () => ({ mutations: 'all of them' }),
      (mid) => ({ mutations: [victimPut(mid, { ok: 1 })], extra: true }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), extra: true }] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), base: '0' }] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), mid: String(mid) }] }),
      () => ({ mutations: [victimPut(-1, { ok: 1 })] }),
      () => ({ mutations: [victimPut(0, { ok: 1 })] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), base: 1.5 }] }),
      (mid) => ({ mutations: [victimPut(mid + 0.5, { ok: 1 })] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), scope: 'no spaces allowed' }] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), collection: '1-starts-with-digit' }] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), id: '' }] }),
      (mid) => ({ mutations: [victimPut(mid, [1, 2])] }),
      (mid) => ({ mutations: [victimPut(mid, 'text')] }),
      (mid) => ({ mutations: [victimMutation(mid, { op: 'put' })] }),
      (mid) => ({ mutations: [victimMutation(mid, { op: 'patch', patch: {} })] }),
      (mid) => ({ mutations: [victimMutation(mid, { op: 'patch', patch: { set: { 'a..b': 1 } } })] }),
      (mid) => ({ mutations: [victimMutation(mid, { op: 'inc', field: 'n', by: 'one' })] }),
      (mid) => ({ mutations: [victimMutation(mid, { op: 'restore', version: 0 })] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), txn: '' }] }),
      (mid) => ({ mutations: [{ ...victimPut(mid, { ok: 1 }), op: 7 }] }),
    ];
    for (const payload of payloads)
      await a.refuse('invalid_message', (mid) => a.bad.raw('push', payload(mid)));
  });

  it('refuses malformed pull, subscribe, unsubscribe, history and hash requests with invalid_message', async () => {
    const a = await open();
    const requests: [string, unknown][] = [
      ['pull', { scope: BAD_SCOPE, after: -1 }],
      ['pull', { scope: BAD_SCOPE, after: '0' }],
      ['pull', { scope: BAD_SCOPE, after: 0, limit: 0 }],
      ['pull', { scope: BAD_SCOPE, after: 0, extra: 1 }],
      ['pull', 'team:bad'],
      ['subscribe', { scopes: [] }],
      ['subscribe', { scopes: BAD_SCOPE }],
      ['subscribe', { scopes: ['not a scope!'] }],
      ['unsubscribe', {}],
      ['history', { scope: BAD_SCOPE }],
      ['history', { scope: BAD_SCOPE, collection: 'notes', id: VICTIM, limit: 1.5 }],
      ['hash', null],
      ['hash', { scope: BAD_SCOPE, after: 0 }],
    ];
    for (const [event, payload] of requests)
      await a.refuse('invalid_message', () => a.bad.raw(event, payload));
  });

  it('refuses an unknown op with unknown_op, even next to a valid mutation', async () => {
    const a = await open();
    await a.refuse('unknown_op', (mid) => pushRaw(a.bad, [victimMutation(mid, { op: 'drop' })]));
    await a.refuse('unknown_op', (mid) =>
      pushRaw(a.bad, [
        victimPut(mid, { ok: 1 }),
        { ...victimMutation(mid + 1, { op: 'truncate' }), id: 'other' },
      ]),
    );
  });

  it('refuses more than maxMutationsPerPush with too_many_mutations and accepts exactly that many', async () => {
    const a = await open({ limits: { maxMutationsPerPush: 5 } });
    const batch = (mid: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        putMutation(mid + i, BAD_SCOPE, i === 0 ? VICTIM : `many${mid + i}`, { i }),
      );
    await a.refuse('too_many_mutations', (mid) => pushRaw(a.bad, batch(mid, 6)));
    const { lastMid } = await a.state();
    const results = expectResults(await pushRaw(a.bad, batch(lastMid + 1, 5)));
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'applied', 'applied']);
  });

  it('refuses non-consecutive mids and split transactions with invalid_batch', async () => {
    const a = await open();
    const m = (mid: number, txn?: string) => ({
      ...putMutation(mid, BAD_SCOPE, mid % 2 === 0 ? VICTIM : `b${mid}`, { mid }),
      ...(txn !== undefined ? { txn } : {}),
    });
    const batches: ((mid: number) => unknown[])[] = [
      (mid) => [m(mid), m(mid + 2)],
      (mid) => [m(mid + 1), m(mid)],
      (mid) => [m(mid), m(mid)],
      (mid) => [m(mid, 't'), m(mid + 1), m(mid + 2, 't')],
      (mid) => [m(mid, 't1'), m(mid + 1, 't2'), m(mid + 2, 't1')],
    ];
    for (const batch of batches) await a.refuse('invalid_batch', (mid) => pushRaw(a.bad, batch(mid)));
  });
});

describe('bad input: events', () => {
  it('answers an unknown event name with unknown_event', async () => {
    const a = await open();
    await a.refuse('unknown_event', () => a.bad.raw('drop_tables', {}));
    await a.refuse('unknown_event', () => a.bad.raw('hello', {}));
    await a.refuse('unknown_event', (mid) =>
      a.bad.raw('changes', { scope: BAD_SCOPE, after: 1, changes: [victimPut(mid, { ok: 1 })] }),
    );
  });

  it('answers an event without an acknowledgement callback with a protocol_error event, applying nothing', async () => {
    const a = await open();
    const protocolError = (send: () => void) =>
      new Promise<unknown>((resolve) => {
        a.bad.socket.once('protocol_error', (err) => {
          const { event, ...error } = err;
          resolve({ ok: false, error, event });
        });
        send();
      });
    for (const event of ['push', 'drop_tables']) {
      let seen: unknown;
      await a.refuse('invalid_message', async (mid) => {
        // A perfectly valid push: without an ack it must not be applied.
        seen = await protocolError(() =>
          emitRaw(a.bad.socket, event, { mutations: [victimPut(mid, { ok: 1 })] }),
        );
        return seen;
      });
      expect(seen).toMatchObject({ event });
    }
  });

  it('refuses extra or missing arguments with invalid_message', async () => {
    const a = await open();
    await a.refuse('invalid_message', (mid) =>
      a.bad.raw('push', { mutations: [victimPut(mid, { ok: 1 })] }, 'extra'),
    );
    await a.refuse('invalid_message', (mid) =>
      a.bad.raw('push', { mutations: [victimPut(mid, { ok: 1 })] }, {}, {}),
    );
    await a.refuse('invalid_message', () => a.bad.raw('push'));
    await a.refuse('invalid_message', () => a.bad.raw('pull', { scope: BAD_SCOPE, after: 0 }, 1));
  });

  it('rate-limits a socket with rate_limited (retryable) and lets it through after the bucket refills', async () => {
    let t = 1_700_000_000_000;
    const clock = { now: () => t };
    // The baseline push in Arena.open takes the bad socket's first token.
    const a = await open({ limits: { eventsPerSecond: 5, eventBurst: 5 }, clock });
    for (let i = 0; i < 4; i++) {
      const res = await a.bad.pull(BAD_SCOPE);
      expect(res.ok).toBe(true);
    }
    const before = await a.state();
    const mid = before.lastMid + 1;
    const error: SyncError = expectError(await pushRaw(a.bad, [victimPut(mid, { ok: 1 })]), 'rate_limited');
    expect(error.retryable).toBe(true);
    // Other events, unknown ones included, are refused the same way.
    expectError(await a.bad.pull(BAD_SCOPE), 'rate_limited');
    expectError(await a.bad.raw('drop_tables', {}), 'rate_limited');
    await a.expectUnchanged(before);
    expect(a.bad.socket.connected).toBe(true);
    // Another socket has its own bucket.
    await a.expectGoodWorks();

    t += 1000;
    // Refilled to the burst: the same push now goes through, with the same mid.
    expect(expectResults(await pushRaw(a.bad, [victimPut(mid, { ok: 1 })]))).toEqual([
      { mid, status: 'applied', version: before.head + 1 },
    ]);
    for (let i = 0; i < 4; i++) expect((await a.bad.pull(BAD_SCOPE)).ok).toBe(true);
    expectError(await a.bad.pull(BAD_SCOPE), 'rate_limited');
    await a.expectGoodWorks();
    expect(a.bad.socket.connected).toBe(true);
  });
});
