/**
 * The durable floor's server process: Socket.IO (websocket transport, Syncline's buffer limit)
 * in front of `durable-floor-store.ts`. A `push` ({ clientId, mutations }) is committed to SQLite
 * (WAL, synchronous=FULL) BEFORE it is forwarded as `changes` to every other socket and acked to
 * the sender with the new head. `GET /pull?after=&limit=` serves committed changes in version
 * order (B6). Argument: how many `benchCard`s to seed before listening (default 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'socket.io';
import { benchCard } from '../browser/records.js';
import { ready } from './child.js';
import { openDurableFloorStore, type FloorMutation } from './durable-floor-store.js';

const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-durable-'));
const store = openDurableFloorStore(join(dir, 'floor.db'));
const seed = Number(process.argv[2] ?? 0);
for (let start = 0; start < seed; start += 5_000) {
  const batch: FloorMutation[] = [];
  for (let i = start; i < Math.min(seed, start + 5_000); i++)
    batch.push({ mid: i + 1, id: benchCard(i).id, value: benchCard(i) });
  store.commit(null, batch);
}

function pull(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  // Pages are served from another origin (the page host).
  const headers = { 'access-control-allow-origin': '*', 'cache-control': 'no-store' };
  if (url.pathname !== '/pull') {
    res.writeHead(404, headers).end();
    return;
  }
  const after = Number(url.searchParams.get('after') ?? 0);
  const limit = Math.min(5_000, Number(url.searchParams.get('limit') ?? 500));
  const body = JSON.stringify({ changes: store.page(after, limit) });
  res.writeHead(200, { ...headers, 'content-type': 'application/json' }).end(body);
}

const http = createServer(pull);
const io = new Server(http, {
  serveClient: false,
  transports: ['websocket'],
  maxHttpBufferSize: 2 * 1024 * 1024 + 65536,
});
io.on('connection', (socket) => {
  socket.on('push', (msg: { clientId: string; mutations: FloorMutation[] }, ack?: (r: unknown) => void) => {
    try {
      const changes = store.commit(msg.clientId, msg.mutations);
      socket.broadcast.emit('changes', changes);
      ack?.({ head: changes[changes.length - 1]?.version ?? 0 });
    } catch (err) {
      ack?.({ error: err instanceof Error ? err.message : String(err) });
    }
  });
});
http.listen(0, '127.0.0.1', () => {
  ready(
    (http.address() as { port: number }).port,
    undefined,
    () =>
      new Promise<void>((resolve) => {
        void io.close(() => {
          store.close();
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  );
});
