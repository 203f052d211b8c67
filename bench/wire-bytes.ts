/** Bytes on the wire of clients A and B, through counting TCP proxies in their own processes. */
import { startPeer, type Peer } from './processes.js';

export const KIB = 1024;

/** A counting proxy in front of `port` for each of A and B. */
export async function proxies(port: number): Promise<{ a: Peer; b: Peer; stop(): Promise<void> }> {
  const [a, b] = await Promise.all([
    startPeer('counting-proxy', [String(port)]),
    startPeer('counting-proxy', [String(port)]),
  ]);
  return { a, b, stop: async () => void (await Promise.allSettled([a.stop(), b.stop()])) };
}

export async function bytes(p: { a: Peer; b: Peer }) {
  const [a, b] = await Promise.all([
    p.a.call<{ up: number; down: number }>({ type: 'bytes' }),
    p.b.call<{ up: number; down: number }>({ type: 'bytes' }),
  ]);
  return {
    'A up KiB': Math.round(a.up / KIB),
    'A down KiB': Math.round(a.down / KIB),
    'B down KiB': Math.round(b.down / KIB),
  };
}
