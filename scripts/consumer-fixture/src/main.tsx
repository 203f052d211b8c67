// A consumer's app: plain Dexie synced through the published `@syncline/client` entry points.
// `?device=<name>` gives each page its own IndexedDB database (a device of its own).
import { createSyncClient, synclineStores, type SyncClient } from '@syncline/client';
import { SynclineProvider, useLiveQuery, useSyncStatus } from '@syncline/client/react';
import { Dexie } from 'dexie';
import { StrictMode, useState, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';

interface Note {
  readonly id: string;
  readonly list: string;
  readonly text: string;
}

const device = new URLSearchParams(location.search).get('device') ?? 'a';
const db = new Dexie(`consumer-${device}`);
db.version(1).stores({ notes: 'id, list', ...synclineStores });
const notes = db.table<Note, string>('notes');

const sync: SyncClient = createSyncClient(db, {
  url: location.origin,
  tables: { notes: { scope: (note) => `list:${String(note['list'])}` } },
  scopes: ['list:1'],
});
await sync.start();

function Notes() {
  const [text, setText] = useState('');
  const all = useLiveQuery(() => notes.where({ list: '1' }).sortBy('text'), [], [] as Note[]);
  const status = useSyncStatus();
  const add = (e: FormEvent) => {
    e.preventDefault();
    void notes.put({ id: crypto.randomUUID(), list: '1', text });
    setText('');
  };
  return (
    <main>
      <p id="status">{status ? `${status.phase}, ${status.pending} pending` : 'starting'}</p>
      <form onSubmit={add}>
        <input id="text" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Add</button>
      </form>
      <ul id="notes">
        {all.map((n) => (
          <li key={n.id}>{n.text}</li>
        ))}
      </ul>
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <SynclineProvider client={sync}>
      <Notes />
    </SynclineProvider>
  </StrictMode>,
);
