/**
 * The PouchDB peer's server: express-pouchdb (the CouchDB HTTP API) over in-memory PouchDB.
 * Mounted directly on `node:http`: it brings its own (express 4) router.
 */
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ready } from './child.js';
import { loadExpressPouch, loadPouch } from './untyped.js';

const PouchDB = loadPouch();
const dir = mkdtempSync(join(tmpdir(), 'syncline-bench-pouch-'));
const app = loadExpressPouch()(PouchDB, {
  mode: 'minimumForPouchDB',
  inMemoryConfig: true,
  logPath: join(dir, 'log.txt'),
});
const http = createServer(app);
http.listen(0, '127.0.0.1', () => ready((http.address() as { port: number }).port));
