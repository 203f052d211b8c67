import { describe, expect, it } from 'vitest';
import { asScopeId, asVersion } from '@syncline/protocol';
import { fold, OwnRanges, type Range } from '../src/store/own-ranges.js';

const s1 = asScopeId('board:1');
const s2 = asScopeId('board:2');

describe('fold', () => {
  it('moves the cursor over the ranges that continue it, in order, and keeps the rest', () => {
    const ranges: Range[] = [
      { from: 9, to: 12 },
      { from: 4, to: 6 },
      { from: 7, to: 7 },
    ];
    // 4–6 and 7 continue 3; 9–12 waits for version 8.
    expect(fold(3, ranges)).toBe(7);
    expect(ranges).toEqual([{ from: 9, to: 12 }]);
    expect(fold(8, ranges)).toBe(12);
    expect(ranges).toEqual([]);
    const gap: Range[] = [{ from: 6, to: 8 }];
    expect(fold(3, gap)).toBe(3);
    expect(gap).toEqual([{ from: 6, to: 8 }]);
    // A range the cursor already passed does not move it back.
    const old: Range[] = [{ from: 2, to: 4 }];
    expect(fold(10, old)).toBe(10);
    expect(old).toEqual([]);
  });
});

describe('OwnRanges', () => {
  it('keeps committed ranges aside until set, then folds them per scope', () => {
    const own = new OwnRanges();
    const next = own.with([
      { scope: s1, after: asVersion(5), count: 2 },
      { scope: s2, after: asVersion(0), count: 1 },
      { scope: s1, after: asVersion(7), count: 1 },
    ]);
    expect(next.get(s1)).toEqual([
      { from: 6, to: 7 },
      { from: 8, to: 8 },
    ]);
    // Not yet set: nothing to fold.
    expect(own.fold(s1, 5)).toBe(5);
    for (const [scope, list] of next) own.set(scope, list);
    expect(own.fold(s1, 4)).toBe(4);
    expect(own.fold(s1, 5)).toBe(8);
    // Folded ranges are gone.
    expect(own.fold(s1, 5)).toBe(5);
    // A later push adds to what is still kept.
    expect(own.with([{ scope: s2, after: asVersion(3), count: 1 }]).get(s2)).toEqual([
      { from: 1, to: 1 },
      { from: 4, to: 4 },
    ]);
    own.delete(s2);
    expect(own.fold(s2, 0)).toBe(0);
  });
});
