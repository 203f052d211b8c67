import { describe, expect, it } from 'vitest';
import { CommitSequencer } from './commit-sequencer.js';

describe('CommitSequencer', () => {
  it('holds a commit back while an in-flight transaction owns a lower version of a shared scope', () => {
    const seq = new CommitSequencer();
    const out: string[] = [];
    const a = seq.open();
    const b = seq.open();
    a.allocated('s', 1);
    b.allocated('s', 2);
    b.committed(() => out.push('b'));
    expect(out).toEqual([]);
    a.committed(() => out.push('a'));
    expect(out).toEqual(['a', 'b']);
  });

  it('releases waiters when the earlier transaction fails, and never publishes a failed one', () => {
    const seq = new CommitSequencer();
    const out: string[] = [];
    const a = seq.open();
    const b = seq.open();
    a.allocated('s', 1);
    b.allocated('s', 2);
    b.committed(() => out.push('b'));
    a.failed();
    expect(out).toEqual(['b']);
  });

  it('lets transactions of unrelated scopes publish independently', () => {
    const seq = new CommitSequencer();
    const out: string[] = [];
    const a = seq.open();
    const b = seq.open();
    a.allocated('s', 5);
    b.allocated('t', 1);
    b.committed(() => out.push('b'));
    expect(out).toEqual(['b']);
    a.committed(() => out.push('a'));
    expect(out).toEqual(['b', 'a']);
  });

  it('forgets allocations of a savepoint that rolled back, keeps those of one released', () => {
    const seq = new CommitSequencer();
    const out: string[] = [];
    const a = seq.open();
    a.enterSavepoint();
    a.allocated('s', 1);
    a.leaveSavepoint(false);
    a.enterSavepoint();
    a.allocated('t', 3);
    a.leaveSavepoint(true);
    expect(a.firstOf('s')).toBeUndefined();
    expect(a.firstOf('t')).toBe(3);
    const b = seq.open();
    b.allocated('s', 1);
    b.committed(() => out.push('b'));
    expect(out).toEqual(['b']);
  });
});
