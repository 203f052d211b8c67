/**
 * B2 (two Chromium pages) floor page: the same card sent over a bare Socket.IO relay (no
 * storage, no validation), websocket transport as Syncline's client uses. Query: `relay` = relay
 * URL, `role` (`writer` | `observer`).
 */
import { io } from 'socket.io-client';
import type { B2PageApi } from './page-api.js';
import { exposeBench, sharedNow } from './page-runtime.js';
import { revisionLog } from './page-revisions.js';
import { benchCard } from './records.js';

exposeBench(async () => {
  const query = new URLSearchParams(location.search);
  const relay = query.get('relay');
  if (relay === null) throw new Error('need ?relay=');
  const socket = io(relay, { transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const log = revisionLog();
  if (query.get('role') === 'observer') socket.on('changes', (card: unknown) => log.note(card));
  const api: B2PageApi = {
    ...log.api,
    write: async (rev) => {
      const at = sharedNow();
      socket.emit('publish', benchCard(0, rev));
      return at;
    },
    drained: async () => undefined,
  };
  return api;
});
