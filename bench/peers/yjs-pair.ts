/**
 * The Yjs peer: two Y.Docs with y-websocket providers against `@y/websocket-server` (its own
 * process). A record is a key of one shared Y.Map; B observes the map. BroadcastChannel is
 * off, or two docs in one process would bypass the server.
 */
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { card, type Card } from '../cards.js';
import { SeqWaiters, type PropagationPair } from '../pair.js';
import { startPeer, type Peer } from '../processes.js';
import { loadWs, versionOf } from './untyped.js';

export interface YReplica {
  readonly doc: Y.Doc;
  readonly map: Y.Map<Card>;
  readonly provider: WebsocketProvider;
}

/** A Y.Doc on room `room`; `connect: false` keeps it offline until `provider.connect()`. */
export async function yReplica(url: string, room: string, connect = true): Promise<YReplica> {
  const doc = new Y.Doc();
  const provider = new WebsocketProvider(url, room, doc, {
    connect,
    disableBc: true,
    WebSocketPolyfill: loadWs().WebSocket as never,
  });
  if (connect) await synced(provider);
  return { doc, map: doc.getMap<Card>('cards'), provider };
}

export function synced(provider: WebsocketProvider): Promise<void> {
  if (provider.synced) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (s: boolean) => {
      if (!s) return;
      provider.off('sync', on);
      resolve();
    };
    provider.on('sync', on);
  });
}

export function closeReplica(r: YReplica): void {
  r.provider.destroy();
  r.doc.destroy();
}

export const yjsVersions = () => ({
  yjs: versionOf('yjs'),
  'y-websocket': versionOf('y-websocket'),
  '@y/websocket-server': versionOf('@y/websocket-server'),
});

export async function startYjsServer(): Promise<{ server: Peer; url: string }> {
  const server = await startPeer('yjs-server');
  return { server, url: `ws://127.0.0.1:${server.port}` };
}

export async function yjsPair(): Promise<PropagationPair> {
  const { server, url } = await startYjsServer();
  try {
    const [a, b] = await Promise.all([yReplica(url, 'b2'), yReplica(url, 'b2')]);
    const waiters = new SeqWaiters();
    b.map.observe((event) => {
      const at = performance.now();
      for (const key of event.keysChanged) waiters.seen(b.map.get(key as string)?.seq, at);
    });
    return {
      row: {
        name: 'peer-yjs',
        kind: 'peer',
        label: 'Yjs Y.Map A → y-websocket server → B observe (server keeps docs in memory)',
        durability: 'server: memory only (no persistence configured)',
        versions: yjsVersions(),
      },
      async propagate(id, seq) {
        const seen = waiters.wait(seq);
        const t0 = performance.now();
        a.map.set(id, card(id, seq));
        return (await seen) - t0;
      },
      async close() {
        closeReplica(a);
        closeReplica(b);
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
