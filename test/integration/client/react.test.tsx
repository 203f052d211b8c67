// @vitest-environment happy-dom
// Dexie reads the global indexedDB when it loads: install fake-indexeddb before anything else.
import 'fake-indexeddb/auto';
import { StrictMode, useState, type ReactNode } from 'react';
import { act, cleanup, fireEvent, render, renderHook, screen, waitFor } from '@testing-library/react';
import { BehaviorSubject, Observable, Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AppObject } from '@syncline/protocol';
import type { AppHistoryEntry as HistoryEntry } from '@syncline/client';
import {
  SynclineProvider,
  useConflicts,
  useHistory,
  useLiveQuery,
  useObservable,
  useRejections,
  useSyncClient,
  useSyncErrors,
  useSyncStatus,
} from '@syncline/client/react';
import type { SyncClient } from '@syncline/client';
import { converged, device, settled, until, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer as TestServer } from '@syncline/test-support/server';

let server: TestServer | undefined;
const devices: Device[] = [];

afterEach(async () => {
  // Unmount first (vitest has no globals here, so Testing Library does not clean up by itself).
  cleanup();
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
  vi.restoreAllMocks();
});

async function setup(opts: Parameters<typeof startServer>[0] = {}): Promise<[Device, Device]> {
  server = await startServer(opts);
  const a = device(server.url);
  const b = device(server.url);
  devices.push(a, b);
  await a.sync.start();
  await b.sync.start();
  await until(a.sync, settled);
  await until(b.sync, settled);
  return [a, b];
}

function withClient(client: SyncClient) {
  return function Wrapper({ children }: { children: ReactNode }) {
    return <SynclineProvider client={client}>{children}</SynclineProvider>;
  };
}

/** Counts live subscriptions to everything the hooks can subscribe to on `sync`. */
interface Counter {
  active: number;
  total: number;
}

function counted<T>(source: Observable<T>, c: Counter): Observable<T> {
  return new Observable<T>((subscriber) => {
    c.active++;
    c.total++;
    const inner = source.subscribe(subscriber);
    return () => {
      c.active--;
      inner.unsubscribe();
    };
  });
}

function instrument(sync: SyncClient): Counter {
  const c: Counter = { active: 0, total: 0 };
  const liveQuery = sync.liveQuery.bind(sync);
  Object.assign(sync, {
    status$: counted(sync.status$, c),
    conflicts$: counted(sync.conflicts$, c),
    rejections$: counted(sync.rejections$, c),
    liveQuery: <R,>(query: () => R | Promise<R>) => counted(liveQuery(query), c),
  });
  return c;
}

const title = (v: AppObject | null | undefined): string =>
  typeof v?.['title'] === 'string' ? v['title'] : '-';

function Titles({ db }: { db: Device['db'] }) {
  const cards = useLiveQuery(() => db.cards.orderBy('id').toArray(), [db]);
  if (cards === undefined) return <p>loading cards</p>;
  return (
    <ul aria-label="cards">
      {cards.map((c) => (
        <li key={c.id}>{c.title}</li>
      ))}
    </ul>
  );
}

function OneCard({ db, id }: { db: Device['db']; id: string }) {
  const card = useLiveQuery(() => db.cards.get(id), [id], 'initial' as const);
  return <p data-testid="card">{card === 'initial' ? 'initial' : (card?.title ?? 'missing')}</p>;
}

function Status() {
  const s = useSyncStatus();
  return (
    <p data-testid="status">{s ? `${s.phase} pending=${s.pending} conflicts=${s.conflicts}` : 'unknown'}</p>
  );
}

function Conflicts() {
  const { conflicts, resolve } = useConflicts();
  if (conflicts === undefined) return <p>loading conflicts</p>;
  return (
    <ul aria-label="conflicts">
      {conflicts.map((c) => (
        <li key={c.mid}>
          {c.id}: mine={title(c.mine)} theirs={title(c.theirs.value)}
          <button onClick={() => void resolve(c.mid, 'mine')}>keep mine {c.id}</button>
        </li>
      ))}
    </ul>
  );
}

function History({ id }: { id: string | null }) {
  const { entries, loading, error, refresh } = useHistory('cards', id);
  return (
    <div>
      <p data-testid="history-state">
        {loading ? 'loading' : 'idle'} {error ? `error: ${error.message}` : 'ok'}
      </p>
      <ol aria-label="history">
        {entries?.map((e) => (
          <li key={e.version}>
            v{e.version} {e.op} {title(e.value)}
          </li>
        ))}
      </ol>
      <button onClick={refresh}>refresh</button>
    </div>
  );
}

const items = (label: string): string[] =>
  Array.from(screen.getByRole('list', { name: label }).querySelectorAll('li'), (li) => li.textContent);

describe('SynclineProvider / useSyncClient', () => {
  it('gives hooks the client, and throws a clear error outside the provider', async () => {
    const [a] = await setup();
    const { result } = renderHook(() => useSyncClient(), { wrapper: withClient(a.sync) });
    expect(result.current).toBe(a.sync);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => renderHook(() => useSyncClient())).toThrow(/inside <SynclineProvider/);
    expect(() => renderHook(() => useSyncStatus())).toThrow(/inside <SynclineProvider/);
  });
});

describe('useLiveQuery', () => {
  it("re-renders device A's component with device B's writes", async () => {
    const [a, b] = await setup();
    render(<Titles db={a.db} />, { wrapper: withClient(a.sync) });
    expect(screen.getByText('loading cards')).toBeTruthy();
    await waitFor(() => expect(items('cards')).toEqual([]));

    await b.db.cards.put({ id: 'c1', board: '1', title: 'written on b' });
    await screen.findByText('written on b');
    await b.db.cards.put({ id: 'c2', board: '1', title: 'second from b' });
    await b.db.cards.update('c1', { title: 'edited on b' });
    await waitFor(() => expect(items('cards')).toEqual(['edited on b', 'second from b']));
    await b.db.cards.delete('c2');
    await waitFor(() => expect(items('cards')).toEqual(['edited on b']));
  });

  it('re-subscribes when deps change and tells "no result yet" from an undefined result', async () => {
    const [a] = await setup();
    const counter = instrument(a.sync);
    await a.db.cards.bulkPut([
      { id: 'c1', board: '1', title: 'one' },
      { id: 'c2', board: '1', title: 'two' },
    ]);
    const { rerender } = render(<OneCard db={a.db} id="c1" />, { wrapper: withClient(a.sync) });
    expect(screen.getByTestId('card').textContent).toBe('initial');
    await waitFor(() => expect(screen.getByTestId('card').textContent).toBe('one'));
    rerender(<OneCard db={a.db} id="c2" />);
    await waitFor(() => expect(screen.getByTestId('card').textContent).toBe('two'));
    rerender(<OneCard db={a.db} id="nope" />);
    await waitFor(() => expect(screen.getByTestId('card').textContent).toBe('missing'));
    // One subscription per deps value, and only the current one is live.
    expect(counter).toEqual({ active: 1, total: 3 });
    // The old query no longer drives the component.
    await a.db.cards.update('c1', { title: 'one, edited' });
    await a.db.cards.put({ id: 'nope', board: '1', title: 'now it exists' });
    await waitFor(() => expect(screen.getByTestId('card').textContent).toBe('now it exists'));
  });
});

describe('useSyncStatus', () => {
  it('shows pending writes while offline and 0 once reconnected', async () => {
    const [a, b] = await setup();
    render(
      <>
        <Status />
        <Titles db={a.db} />
      </>,
      { wrapper: withClient(a.sync) },
    );
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live pending=0 conflicts=0'));

    a.network.set(false);
    await waitFor(() =>
      expect(screen.getByTestId('status').textContent).toBe('offline pending=0 conflicts=0'),
    );
    await a.db.cards.put({ id: 'c1', board: '1', title: 'offline 1' });
    await a.db.cards.put({ id: 'c2', board: '1', title: 'offline 2' });
    await waitFor(() =>
      expect(screen.getByTestId('status').textContent).toBe('offline pending=2 conflicts=0'),
    );
    expect(items('cards')).toEqual(['offline 1', 'offline 2']);

    a.network.set(true);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live pending=0 conflicts=0'));
    await converged(b);
    expect((await b.db.cards.get('c2'))?.title).toBe('offline 2');
  });
});

describe('useSyncErrors', () => {
  it('lists the latest sync errors with code and retryable, at most `limit`', async () => {
    server = await startServer({
      auth: { authenticate: () => null, authorize: () => true }, // every connection refused
    });
    const a = device(server.url);
    devices.push(a);
    function Errors() {
      const errors = useSyncErrors(2);
      return <p data-testid="errors">{errors.map((e) => `${e.code}:${String(e.retryable)}`).join(' ')}</p>;
    }
    render(<Errors />, { wrapper: withClient(a.sync) });
    expect(screen.getByTestId('errors').textContent).toBe('');
    await a.sync.start();
    await waitFor(() =>
      expect(screen.getByTestId('errors').textContent).toBe('unauthenticated:false unauthenticated:false'),
    );
  });
});

describe('useConflicts', () => {
  it('lists a manual conflict and resolving it through the hook removes it', async () => {
    const [a, b] = await setup({ collections: { cards: { strategy: 'manual' } } });
    await a.db.cards.put({ id: 'c1', board: '1', title: 'original' });
    await converged(a);
    await converged(b);

    render(
      <>
        <Status />
        <Conflicts />
        <OneCard db={a.db} id="c1" />
      </>,
      { wrapper: withClient(a.sync) },
    );
    await waitFor(() => expect(items('conflicts')).toEqual([]));

    a.network.set(false);
    await a.db.cards.update('c1', { title: 'from a' });
    await b.db.cards.update('c1', { title: 'from b' });
    await converged(b);
    a.network.set(true);

    await waitFor(() => expect(items('conflicts')).toEqual(['c1: mine=from a theirs=from bkeep mine c1']));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live pending=0 conflicts=1'));
    // The server's value is what A shows until the user decides.
    expect(screen.getByTestId('card').textContent).toBe('from b');

    fireEvent.click(screen.getByRole('button', { name: 'keep mine c1' }));
    await waitFor(() => expect(items('conflicts')).toEqual([]));
    await waitFor(() => expect(screen.getByTestId('card').textContent).toBe('from a'));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live pending=0 conflicts=0'));
    await converged(b);
    expect((await b.db.cards.get('c1'))?.title).toBe('from a');
  });
});

describe('useRejections', () => {
  it('lists a rejected write and dismisses it', async () => {
    const [a] = await setup({
      collections: {
        cards: { validate: (v) => (v['title'] === 'forbidden' ? 'title not allowed' : undefined) },
      },
    });
    function Rejections() {
      const { rejections, dismiss } = useRejections();
      return (
        <ul aria-label="rejections">
          {rejections?.map((r) => (
            <li key={r.mid}>
              {r.id} {r.error.message}
              <button onClick={() => void dismiss(r.mid)}>dismiss {r.id}</button>
            </li>
          ))}
        </ul>
      );
    }
    render(
      <>
        <Rejections />
        <Titles db={a.db} />
      </>,
      { wrapper: withClient(a.sync) },
    );
    await a.db.cards.put({ id: 'bad', board: '1', title: 'forbidden' });
    await waitFor(() =>
      expect(items('rejections')).toEqual([expect.stringMatching(/^bad .*title not allowed/)]),
    );
    // Rolled back locally.
    await waitFor(() => expect(items('cards')).toEqual([]));
    fireEvent.click(screen.getByRole('button', { name: 'dismiss bad' }));
    await waitFor(() => expect(items('rejections')).toEqual([]));
  });
});

describe('useHistory', () => {
  it('lists a record history, refreshes, and follows the id', async () => {
    const [a, b] = await setup();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'first' });
    await a.db.cards.update('c1', { title: 'second' });
    await a.db.cards.put({ id: 'c2', board: '1', title: 'other' });
    await converged(a);

    const { rerender } = render(<History id="c1" />, { wrapper: withClient(a.sync) });
    expect(screen.getByTestId('history-state').textContent).toBe('loading ok');
    await waitFor(() => expect(items('history')).toEqual(['v2 patch second', 'v1 put first']));
    expect(screen.getByTestId('history-state').textContent).toBe('idle ok');

    await b.db.cards.update('c1', { title: 'third, by b' });
    await converged(b);
    await converged(a);
    fireEvent.click(screen.getByRole('button', { name: 'refresh' }));
    await waitFor(() =>
      expect(items('history')).toEqual(['v4 patch third, by b', 'v2 patch second', 'v1 put first']),
    );

    rerender(<History id="c2" />);
    await waitFor(() => expect(items('history')).toEqual(['v3 put other']));

    rerender(<History id="missing" />);
    await waitFor(() =>
      expect(screen.getByTestId('history-state').textContent).toBe(
        'idle error: no synced record cards/missing',
      ),
    );
    expect(items('history')).toEqual([]);

    rerender(<History id={null} />);
    expect(screen.getByTestId('history-state').textContent).toBe('idle ok');
  });

  /** Holds back the answer to the first `history` call for `id` until `release()`. */
  function gateFirstHistory(sync: SyncClient, gatedId: string) {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held: Promise<HistoryEntry[]> | undefined;
    const history = sync.history.bind(sync);
    vi.spyOn(sync, 'history').mockImplementation(async (table, id, opts) => {
      const answer = history(table, id, opts);
      if (id !== gatedId || held !== undefined) return answer;
      held = gate.then(() => answer);
      return held;
    });
    return {
      /** Lets the held answer through and waits until the hook has seen it. */
      async release(): Promise<HistoryEntry[]> {
        expect(held).toBeDefined();
        let entries: HistoryEntry[] = [];
        await act(async () => {
          release();
          entries = (await held) ?? [];
        });
        return entries;
      },
    };
  }

  it('ignores the answer for a record no longer shown', async () => {
    const [a] = await setup();
    await a.db.cards.bulkPut([
      { id: 'c1', board: '1', title: 'one' },
      { id: 'c2', board: '1', title: 'two' },
    ]);
    await converged(a);
    const held = gateFirstHistory(a.sync, 'c1');

    const { rerender } = render(<History id="c1" />, { wrapper: withClient(a.sync) });
    rerender(<History id="c2" />);
    await waitFor(() => expect(items('history')).toEqual(['v2 put two']));
    expect((await held.release()).map((e) => e.value?.['title'])).toEqual(['one']);
    expect(items('history')).toEqual(['v2 put two']);
    expect(screen.getByTestId('history-state').textContent).toBe('idle ok');
  });

  it('ignores an earlier fetch answering after a refresh', async () => {
    const [a] = await setup();
    await a.db.cards.put({ id: 'c1', board: '1', title: 'one' });
    await converged(a);
    const held = gateFirstHistory(a.sync, 'c1');

    render(<History id="c1" />, { wrapper: withClient(a.sync) });
    await a.db.cards.update('c1', { title: 'one, edited' });
    await converged(a);
    fireEvent.click(screen.getByRole('button', { name: 'refresh' }));
    await waitFor(() => expect(items('history')).toEqual(['v2 patch one, edited', 'v1 put one']));
    // The first fetch was made before the edit: its answer is older, and must not win.
    expect(await held.release()).toHaveLength(1);
    expect(items('history')).toEqual(['v2 patch one, edited', 'v1 put one']);
    expect(screen.getByTestId('history-state').textContent).toBe('idle ok');
  });
});

describe('subscriptions', () => {
  function Everything({ db, label }: { db: Device['db']; label: string }) {
    const status = useSyncStatus();
    const { conflicts } = useConflicts();
    const { rejections } = useRejections();
    const count = useLiveQuery(() => db.cards.count(), [db]);
    const [clicks, setClicks] = useState(0);
    return (
      <div>
        <p data-testid="everything">
          {label} {status?.phase ?? '?'} cards={count ?? '?'} conflicts={conflicts?.length ?? '?'} rejections=
          {rejections?.length ?? '?'} clicks={clicks}
        </p>
        <button onClick={() => setClicks((n) => n + 1)}>click</button>
      </div>
    );
  }

  it('subscribes once per hook, never per render, and unsubscribes everything on unmount', async () => {
    const [a, b] = await setup();
    const counter = instrument(a.sync);
    const errors = vi.spyOn(console, 'error');
    const { rerender, unmount } = render(<Everything db={a.db} label="x" />, { wrapper: withClient(a.sync) });
    await waitFor(() =>
      expect(screen.getByTestId('everything').textContent).toBe(
        'x live cards=0 conflicts=0 rejections=0 clicks=0',
      ),
    );
    expect(counter).toEqual({ active: 4, total: 4 });

    // Re-renders from props, local state and new data.
    rerender(<Everything db={a.db} label="y" />);
    fireEvent.click(screen.getByRole('button', { name: 'click' }));
    fireEvent.click(screen.getByRole('button', { name: 'click' }));
    await b.db.cards.put({ id: 'c1', board: '1', title: 'from b' });
    await waitFor(() =>
      expect(screen.getByTestId('everything').textContent).toBe(
        'y live cards=1 conflicts=0 rejections=0 clicks=2',
      ),
    );
    expect(counter).toEqual({ active: 4, total: 4 });

    unmount();
    expect(counter).toEqual({ active: 0, total: 4 });
    // Changes after unmount reach the database but no component, and React does not complain.
    await b.db.cards.put({ id: 'c2', board: '1', title: 'after unmount' });
    await converged(b);
    await waitFor(async () => expect(await a.db.cards.count()).toBe(2));
    expect(counter).toEqual({ active: 0, total: 4 });
    expect(errors).not.toHaveBeenCalled();
  });

  it('works under StrictMode: the simulated remount resubscribes and leaves one live subscription per hook', async () => {
    const [a, b] = await setup();
    const counter = instrument(a.sync);
    const { unmount } = render(
      <StrictMode>
        <SynclineProvider client={a.sync}>
          <Everything db={a.db} label="strict" />
        </SynclineProvider>
      </StrictMode>,
    );
    await b.db.cards.put({ id: 'c1', board: '1', title: 'from b' });
    await waitFor(() =>
      expect(screen.getByTestId('everything').textContent).toBe(
        'strict live cards=1 conflicts=0 rejections=0 clicks=0',
      ),
    );
    expect(counter.active).toBe(4);
    unmount();
    expect(counter.active).toBe(0);
  });
});

describe('useObservable', () => {
  it('reads a synchronous first value and later emissions, and unsubscribes on unmount', () => {
    const subject = new BehaviorSubject(1);
    const { result, unmount } = renderHook(() => useObservable(() => subject, [], 'none'));
    expect(result.current).toBe(1);
    act(() => subject.next(2));
    expect(result.current).toBe(2);
    expect(subject.observed).toBe(true);
    unmount();
    expect(subject.observed).toBe(false);
  });

  it('gives the initial value until the first emission and throws errors for an error boundary', () => {
    const subject = new Subject<number>();
    const { result } = renderHook(() => useObservable(() => subject, [], 'none'));
    expect(result.current).toBe('none');
    act(() => subject.next(7));
    expect(result.current).toBe(7);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => act(() => subject.error(new Error('query failed')))).toThrow('query failed');
  });
});
