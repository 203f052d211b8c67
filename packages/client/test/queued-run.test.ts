import { describe, expect, it } from 'vitest';
import { asMid, asScopeId, asVersion } from '@syncline/protocol';
import { headFromRun, MAX_QUEUED_RUN, trimRun, withQueued } from '../src/engine/queued-run.js';
import type { OutboxEntry } from '../src/store/schema.js';

const entry = (mid: number): OutboxEntry => ({
  mid,
  table: 'cards',
  key: `c${mid}`,
  createdAt: 0,
  mutation: {
    mid: asMid(mid),
    scope: asScopeId('board:1'),
    collection: 'cards',
    id: `c${mid}`,
    base: asVersion(0),
    op: 'put',
    value: { id: `c${mid}` },
  },
});
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i));
const mids = (run: readonly OutboxEntry[] | undefined) => run?.map((e) => e.mid);

describe('the run of entries this tab queued', () => {
  it('grows while transactions continue it, and starts over when one does not', () => {
    let run = withQueued([], range(4, 5));
    run = withQueued(run, range(6, 6));
    expect(mids(run)).toEqual([4, 5, 6]);
    // Another tab took mid 7: what this tab queued next starts a new run.
    expect(mids(withQueued(run, range(8, 9)))).toEqual([8, 9]);
    expect(withQueued(run, [])).toBe(run);
  });

  it('keeps nothing of entries whose mids are not consecutive, nor more than the cap', () => {
    expect(withQueued(range(1, 2), [entry(3), entry(5)])).toEqual([]);
    expect(withQueued(range(1, MAX_QUEUED_RUN), [entry(MAX_QUEUED_RUN + 1)])).toEqual([]);
  });

  it('gives the head only when it starts right after the last mid sent or settled', () => {
    const run = range(4, 7);
    expect(mids(headFromRun(run, 3))).toEqual([4, 5, 6, 7]);
    expect(mids(headFromRun(run, 5))).toEqual([6, 7]);
    // Mid 3 is in the outbox and not in the run (another tab's, or queued offline): read it.
    expect(headFromRun(run, 2)).toBeUndefined();
    expect(headFromRun(run, 7)).toBeUndefined();
    // Nothing settled on this connection yet: where the outbox starts is unknown.
    expect(headFromRun(run, undefined)).toBeUndefined();
    expect(headFromRun([], 0)).toBeUndefined();
  });

  it('drops what was sent', () => {
    const run = range(4, 7);
    expect(mids(trimRun(run, 5))).toEqual([6, 7]);
    expect(trimRun(run, 3)).toBe(run);
    expect(trimRun(run, 7)).toEqual([]);
  });
});
