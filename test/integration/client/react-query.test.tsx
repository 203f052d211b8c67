// @vitest-environment happy-dom
// Dexie reads the global indexedDB when it loads: install fake-indexeddb before anything else.
import 'fake-indexeddb/auto';
import type { ReactNode } from 'react';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { SynclineProvider, useQuery } from '@syncline/client/react';
import type { QueryOptions, SyncClient } from '@syncline/client';
import { converged, device, settled, until, type Device } from '@syncline/test-support/devices';
import { startServer, type RunningServer } from '@syncline/test-support/server';

let server: RunningServer | undefined;
const devices: Device[] = [];

afterEach(async () => {
  cleanup();
  for (const d of devices.splice(0)) await d.sync.close();
  await server?.stop();
  server = undefined;
});

async function start(scopes: string[] = ['board:1']): Promise<Device> {
  const d = device(server!.url, { client: { scopes } });
  devices.push(d);
  await d.sync.start();
  await until(d.sync, settled);
  return d;
}

function withClient(client: SyncClient) {
  return function Wrapper({ children }: { children: ReactNode }) {
    return <SynclineProvider client={client}>{children}</SynclineProvider>;
  };
}

/** Shows a query's rows, state and buttons for its actions. */
function Results({ query }: { query: Omit<QueryOptions, 'after'> | null }) {
  const { rows, loading, error, partial, hasNextPage, fetchNextPage, refresh } = useQuery(query);
  return (
    <div>
      <p data-testid="state">
        {loading ? 'loading' : 'idle'} {error ? `error: ${(error as { code?: string }).code}` : 'ok'}
        {partial ? ' partial' : ''} {hasNextPage ? 'more' : 'end'}
      </p>
      <ol aria-label="rows">
        {rows?.map((r) => (
          <li key={`${r.source}:${r.id}`}>
            {r.id} {r.value['title'] as string}
          </li>
        ))}
      </ol>
      <button onClick={fetchNextPage}>next</button>
      <button onClick={refresh}>refresh</button>
    </div>
  );
}

const rows = (): string[] =>
  Array.from(screen.getByRole('list', { name: 'rows' }).querySelectorAll('li'), (li) => li.textContent);
const state = (): string | null => screen.getByTestId('state').textContent;

describe('useQuery', () => {
  it('loads the first page, appends the next ones, and refreshes from the start', async () => {
    server = await startServer();
    const writer = await start(['board:2']);
    for (let i = 0; i < 5; i++) await writer.db.cards.put({ id: `k${i}`, board: '2', title: `t${i}` });
    await converged(writer);
    const reader = await start();

    const query = { scope: 'board:2', collection: 'cards', orderBy: { field: 'title' }, limit: 2 };
    const { rerender } = render(<Results query={query} />, { wrapper: withClient(reader.sync) });
    expect(state()).toBe('loading ok end');
    await waitFor(() => expect(rows()).toEqual(['k0 t0', 'k1 t1']));
    expect(state()).toBe('idle ok more');

    fireEvent.click(screen.getByRole('button', { name: 'next' }));
    await waitFor(() => expect(rows()).toEqual(['k0 t0', 'k1 t1', 'k2 t2', 'k3 t3']));
    fireEvent.click(screen.getByRole('button', { name: 'next' }));
    await waitFor(() => expect(state()).toBe('idle ok end'));
    expect(rows()).toHaveLength(5);
    // On the last page, next does nothing.
    fireEvent.click(screen.getByRole('button', { name: 'next' }));
    expect(state()).toBe('idle ok end');

    await writer.db.cards.put({ id: 'k-first', board: '2', title: 'a first' });
    await converged(writer);
    fireEvent.click(screen.getByRole('button', { name: 'refresh' }));
    await waitFor(() => expect(rows()).toEqual(['k-first a first', 'k0 t0']));
    expect(state()).toBe('idle ok more');

    // The same query in a new object keeps the rows; another query starts over.
    rerender(<Results query={{ ...query }} />);
    expect(state()).toBe('idle ok more');
    rerender(<Results query={{ ...query, where: [{ field: 'title', op: 'in', values: ['t3', 'zz'] }] }} />);
    await waitFor(() => expect(rows()).toEqual(['k3 t3']));
    expect(state()).toBe('idle ok end');
  });

  it('shows a retryable offline error, then rows once online and refreshed; null asks nothing', async () => {
    server = await startServer();
    const reader = await start();
    await reader.db.cards.put({ id: 'mine', board: '1', title: 'here' });
    await converged(reader);
    reader.network.set(false);

    const query = { scope: 'board:1', collection: 'cards', limit: 5 };
    const { rerender } = render(<Results query={query} />, { wrapper: withClient(reader.sync) });
    await waitFor(() => expect(state()).toBe('idle error: offline end'));
    expect(rows()).toEqual([]);

    reader.network.set(true);
    await until(reader.sync, settled);
    fireEvent.click(screen.getByRole('button', { name: 'refresh' }));
    await waitFor(() => expect(rows()).toEqual(['mine here']));
    expect(state()).toBe('idle ok end');

    rerender(<Results query={null} />);
    expect(state()).toBe('idle ok end');
    expect(rows()).toEqual([]);
  });
});
