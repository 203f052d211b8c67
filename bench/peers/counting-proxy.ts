/**
 * A TCP proxy that counts bytes in each direction (B5's bytes on the wire): everything a client
 * and its server exchange, websocket framing and Socket.IO/engine.io envelopes included.
 * Usage: counting-proxy.ts <target port>.
 */
import { connect, createServer, type Socket } from 'node:net';
import { ready } from './child.js';

const target = Number(process.argv[2]);
let up = 0;
let down = 0;
const open = new Set<Socket>();

const server = createServer((client) => {
  const upstream = connect(target, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  open.add(client).add(upstream);
  client.on('data', (d: Buffer) => (up += d.length)).pipe(upstream);
  upstream.on('data', (d: Buffer) => (down += d.length)).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
    open.delete(client);
    open.delete(upstream);
  };
  client.on('close', end).on('error', end);
  upstream.on('close', end).on('error', end);
});

server.listen(0, '127.0.0.1', () => {
  ready(
    (server.address() as { port: number }).port,
    async (cmd) => {
      if (cmd.type === 'reset') up = down = 0;
      return { up, down };
    },
    () => {
      for (const s of open) s.destroy();
      server.close();
    },
  );
});
