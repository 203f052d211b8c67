/**
 * The Yjs peer's server: `@y/websocket-server` (its own `setupWSConnection`, in-memory documents,
 * no persistence) on an ephemeral port, as its bundled `server.js` does on a fixed one.
 */
import { createServer } from 'node:http';
import { setupWSConnection } from '@y/websocket-server/utils';
import { ready } from './child.js';
import { loadWs } from './untyped.js';

const { WebSocketServer } = loadWs();
const http = createServer((_req, res) => res.writeHead(200).end('okay'));
const wss = new WebSocketServer({ noServer: true });
// setupWSConnection is typed against the DOM WebSocket; it only uses the ws API we pass.
wss.on('connection', (ws, req) => setupWSConnection(ws as never, req));
http.on('upgrade', (req, socket, head) => {
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
http.listen(0, '127.0.0.1', () => ready((http.address() as { port: number }).port));
