/**
 * The RxDB peer's server: an RxDB database on the memory storage behind RxDB's own websocket
 * replication server (`startWebsocketServer`), one `cards` collection.
 */
import { createRxDatabase } from 'rxdb';
import { getRxStorageMemory } from 'rxdb/plugins/storage-memory';
import { startWebsocketServer } from 'rxdb/plugins/replication-websocket';
import { ready } from './child.js';
import { CARD_SCHEMA } from './rxdb-schema.js';

const db = await createRxDatabase({ name: 'server', storage: getRxStorageMemory() });
await db.addCollections({ cards: { schema: CARD_SCHEMA } });
const server = startWebsocketServer({ database: db, port: 0, host: '127.0.0.1' });
await new Promise<void>((resolve) => server.server.once('listening', () => resolve()));
ready((server.server.address() as { port: number }).port, undefined, async () => {
  await db.close();
});
