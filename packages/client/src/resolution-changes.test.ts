import { describe, expect, it } from 'vitest';
import { appChangeSpec, resolutionChanges } from './resolution-changes.js';

describe('resolutionChanges', () => {
  const current = {
    id: 'c',
    title: 'theirs',
    notes: 'kept',
    likes: 3,
    stats: { views: 9, likes: 2 },
    due: { $date: '2026-01-01T00:00:00.000Z' },
  };

  it('writes only the leaves of the chosen paths that differ', () => {
    const target = { ...current, title: 'mine', notes: 'other', stats: { views: 10, likes: 0 } };
    expect(resolutionChanges(current, target, [['title'], ['stats']], [], ['id'])).toEqual([
      { path: ['title'], value: 'mine' },
      { path: ['stats', 'views'], value: 10 },
      { path: ['stats', 'likes'], value: 0 },
    ]);
  });

  it('never writes a counter, an object holding one, or a key field', () => {
    const target = { id: 'other', title: 'mine', likes: 0, stats: 'gone' };
    const paths = [['id'], ['title'], ['likes'], ['stats']];
    expect(resolutionChanges(current, target, paths, ['likes', 'stats.likes'], ['id'])).toEqual([
      { path: ['title'], value: 'mine' },
    ]);
  });

  it('removes a field the target lacks, and sets a tagged value as a whole', () => {
    const target = { id: 'c', due: { $date: '2026-02-01T00:00:00.000Z' } };
    expect(resolutionChanges(current, target, [['notes'], ['due']], [], ['id'])).toEqual([
      { path: ['notes'], value: undefined },
      { path: ['due'], value: { $date: '2026-02-01T00:00:00.000Z' } },
    ]);
  });

  it('turns changes into a Dexie update spec in the app types', () => {
    const spec = appChangeSpec([
      { path: ['due'], value: { $date: '2026-02-01T00:00:00.000Z' } },
      { path: ['$$price', 'eur'], value: 4 },
      { path: ['notes'], value: undefined },
    ]);
    expect(spec).toEqual({ due: new Date('2026-02-01T00:00:00.000Z'), '$price.eur': 4, notes: undefined });
    expect(Object.keys(spec)).toContain('notes');
  });
});
