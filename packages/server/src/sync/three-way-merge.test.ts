import { describe, expect, it } from 'vitest';
import { threeWayMerge } from './three-way-merge.js';

describe('threeWayMerge', () => {
  it('keeps fields changed by only one side', () => {
    const out = threeWayMerge({ a: 1, b: 1 }, { a: 2, b: 1 }, { a: 1, b: 3 });
    expect(out).toEqual({ value: { a: 2, b: 3 }, overwritten: [] });
  });

  it('lets the incoming side win a field both changed, and reports it', () => {
    const out = threeWayMerge({ a: 1 }, { a: 2 }, { a: 3 });
    expect(out).toEqual({ value: { a: 3 }, overwritten: ['a'] });
  });

  it('does not report a field both sides changed to the same value', () => {
    expect(threeWayMerge({ a: 1 }, { a: 2 }, { a: 2 })).toEqual({ value: { a: 2 }, overwritten: [] });
  });

  it('honours deletions made by either side', () => {
    expect(threeWayMerge({ a: 1, b: 1 }, { b: 1 }, { a: 1, b: 2 }).value).toEqual({ b: 2 });
    expect(threeWayMerge({ a: 1, b: 1 }, { a: 1, b: 2 }, { b: 1 }).value).toEqual({ b: 2 });
  });

  it('merges nested objects field by field', () => {
    const out = threeWayMerge(
      { addr: { city: 'A', zip: '1' } },
      { addr: { city: 'B', zip: '1' } },
      { addr: { city: 'A', zip: '2' } },
    );
    expect(out).toEqual({ value: { addr: { city: 'B', zip: '2' } }, overwritten: [] });
  });

  it('treats arrays as values and reports nested paths', () => {
    const out = threeWayMerge({ o: { tags: ['a'] } }, { o: { tags: ['a', 'b'] } }, { o: { tags: ['c'] } });
    expect(out).toEqual({ value: { o: { tags: ['c'] } }, overwritten: ['o.tags'] });
  });

  it('unions fields when there is no known base (concurrent creates)', () => {
    const out = threeWayMerge(undefined, { a: 1, b: 1 }, { b: 2, c: 3 });
    expect(out).toEqual({ value: { a: 1, b: 2, c: 3 }, overwritten: ['b'] });
  });

  it('treats a Date or binary tag as one value, never merging inside it', () => {
    const d1 = { $date: '2024-01-01T00:00:00.000Z' };
    const d2 = { $date: '2024-02-02T00:00:00.000Z' };
    // The other side turned the Date into an object: merging inside would yield { $date, x }.
    const out = threeWayMerge({ when: d1 }, { when: { x: 1 } }, { when: d2 });
    expect(out).toEqual({ value: { when: d2 }, overwritten: ['when'] });
    expect(
      threeWayMerge({ b: { $bytes: 'AA==' } }, { b: { $bytes: 'AQ==' } }, { b: { $bytes: 'Ag==' } }),
    ).toEqual({
      value: { b: { $bytes: 'Ag==' } },
      overwritten: ['b'],
    });
  });
});
