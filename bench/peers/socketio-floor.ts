/**
 * The transport floor: a bare Socket.IO server with no validation, storage or auth. Every
 * socket joins one room; `publish` forwards the message to every other socket in it (B2: the
 * relay from A to B; B4: the room broadcast to M subscribers). Same websocket transport and
 * buffer limits as the Syncline server.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { ready } from './child.js';

const http = createServer();
const io = new Server(http, {
  serveClient: false,
  transports: ['websocket'],
  maxHttpBufferSize: 2 * 1024 * 1024 + 65536,
});
io.on('connection', (socket) => {
  void socket.join('room');
  socket.on('publish', (msg: unknown, ack?: () => void) => {
    socket.to('room').emit('changes', msg);
    ack?.();
  });
});
http.listen(0, '127.0.0.1', () => {
  ready(
    (http.address() as { port: number }).port,
    undefined,
    () => new Promise<void>((r) => void io.close(() => r())),
  );
});
