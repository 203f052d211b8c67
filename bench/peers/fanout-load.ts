/**
 * B4 load generator (one of two processes): holds many subscriber connections and records, per
 * write `seq`, when each of them received it (wall clock, comparable with the writer's).
 * Modes: `syncline` speaks the Syncline protocol over raw socket.io-client (handshake auth and a
 * `subscribe`), `socketio` joins the floor server's room, `yjs` opens y-websocket providers.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION, asScopeId, type ChangesMessage, type SubscribeResponse } from '@syncline/protocol';
import type { Card } from '../cards.js';
import { ready, wallMs } from './child.js';
import { loadWs } from './untyped.js';

type Mode = 'syncline' | 'socketio' | 'yjs';

// y-websocket adds a process `exit` listener per provider; hundreds of them are expected here.
process.setMaxListeners(0);

/** seq → arrival times, one per subscriber that has it. */
const arrivals = new Map<number, number[]>();
/** `await` calls waiting for a seq to reach its expected count. */
const waiting = new Map<number, { expect: number; resolve(times: number[]): void }>();
const sockets: Socket[] = [];
const providers: WebsocketProvider[] = [];

const arrived = (seq: unknown) => {
  if (typeof seq !== 'number') return;
  const at = wallMs();
  const list = arrivals.get(seq);
  if (list) list.push(at);
  else arrivals.set(seq, [at]);
  const w = waiting.get(seq);
  const times = arrivals.get(seq)!;
  if (w && times.length >= w.expect) {
    waiting.delete(seq);
    w.resolve(times);
  }
};

/** Resolves with the arrival times of `seq` once `expect` subscribers have it. */
function awaitSeq(seq: number, expect: number): Promise<{ times: number[] }> {
  const times = arrivals.get(seq) ?? [];
  if (times.length >= expect) return Promise.resolve({ times });
  return new Promise((resolve) => waiting.set(seq, { expect, resolve: (t) => resolve({ times: t }) }));
}

async function openSocket(url: string, mode: Mode, clientId: string, scope: string): Promise<void> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 60_000,
    ...(mode === 'syncline' ? { auth: { protocolVersion: PROTOCOL_VERSION, clientId } } : {}),
  });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  socket.on('changes', (msg: ChangesMessage) => {
    for (const c of msg.changes) arrived((c.value as Card | null)?.seq);
  });
  if (mode === 'syncline') {
    const res = (await socket
      .timeout(60_000)
      .emitWithAck('subscribe', { scopes: [asScopeId(scope)] })) as SubscribeResponse;
    if (!res.ok || !res.scopes.every((s) => s.ok))
      throw new Error(`subscribe refused: ${JSON.stringify(res)}`);
  }
}

async function openYjs(url: string, room: string): Promise<void> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, room, doc, {
    disableBc: true,
    WebSocketPolyfill: loadWs().WebSocket as never,
  });
  providers.push(provider);
  const map = doc.getMap<Card>('cards');
  map.observe((event) => {
    for (const key of event.keysChanged) arrived(map.get(key as string)?.seq);
  });
  await new Promise<void>((resolve) => {
    const on = (synced: boolean) => {
      if (!synced) return;
      provider.off('sync', on);
      resolve();
    };
    provider.on('sync', on);
  });
}

/** Opens `count` subscribers, `parallel` handshakes at a time (a burst of thousands is refused). */
async function connect(cmd: Record<string, unknown>): Promise<{ open: number }> {
  const { url, mode, count, prefix, scope } = cmd as {
    url: string;
    mode: Mode;
    count: number;
    prefix: string;
    scope: string;
  };
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if (mode === 'yjs') await openYjs(url, scope);
      else await openSocket(url, mode, `${prefix}_${i}`, scope);
    }
  };
  await Promise.all(Array.from({ length: Math.min(50, count) }, worker));
  return { open: sockets.length + providers.length };
}

ready(0, async (cmd) => {
  switch (cmd.type) {
    case 'clock':
      return { now: wallMs() };
    case 'connect':
      return connect(cmd);
    case 'await':
      return awaitSeq(cmd['seq'] as number, cmd['expect'] as number);
    case 'count':
      return { count: arrivals.get(cmd['seq'] as number)?.length ?? 0 };
    case 'close':
      for (const s of sockets.splice(0)) s.close();
      for (const p of providers.splice(0)) p.destroy();
      arrivals.clear();
      waiting.clear();
      return {};
    default:
      throw new Error(`unknown command ${cmd.type}`);
  }
});
