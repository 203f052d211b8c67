/**
 * B2's floor: A emits the record to a bare Socket.IO relay (its own process), which forwards it
 * to B. No storage, no validation: the transport's own cost.
 */
import { io, type Socket } from 'socket.io-client';
import { card } from '../cards.js';
import { SeqWaiters, type PropagationPair } from '../pair.js';
import { startPeer } from '../processes.js';
import { versionOf } from './untyped.js';

export async function connectRaw(url: string, auth?: Record<string, unknown>): Promise<Socket> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...(auth ? { auth } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

export async function socketioPair(): Promise<PropagationPair> {
  const server = await startPeer('socketio-floor');
  try {
    const url = `http://127.0.0.1:${server.port}`;
    const [a, b] = await Promise.all([connectRaw(url), connectRaw(url)]);
    const waiters = new SeqWaiters();
    b.on('changes', (msg: { value: { seq: number } }) => waiters.seen(msg.value.seq, performance.now()));
    return {
      row: {
        name: 'floor-socketio',
        kind: 'floor',
        label: 'raw Socket.IO relay A → server → B (no storage)',
        durability: 'none (relay only)',
        versions: { 'socket.io': versionOf('socket.io') },
      },
      async propagate(id, seq) {
        const seen = waiters.wait(seq);
        const t0 = performance.now();
        a.emit('publish', { id, value: card(id, seq) });
        return (await seen) - t0;
      },
      async close() {
        a.close();
        b.close();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
