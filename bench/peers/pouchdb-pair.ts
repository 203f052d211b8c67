/**
 * The PouchDB peer: two in-memory PouchDBs in live two-way sync with express-pouchdb (its own
 * process); B observes its live changes feed.
 */
import { card } from '../cards.js';
import { SeqWaiters, type PropagationPair } from '../pair.js';
import { startPeer } from '../processes.js';
import { loadPouch, versionOf } from './untyped.js';

let dbs = 0;

export async function pouchdbPair(): Promise<PropagationPair> {
  const server = await startPeer('pouchdb-server');
  try {
    const remote = `http://127.0.0.1:${server.port}/cards`;
    const PouchDB = loadPouch();
    const a = new PouchDB(`a${++dbs}`);
    const b = new PouchDB(`b${dbs}`);
    await a.replicate.to(remote); // creates the remote database before both go live
    const syncs = [a.sync(remote, { live: true, retry: true }), b.sync(remote, { live: true, retry: true })];
    const waiters = new SeqWaiters();
    const feed = b.changes({ live: true, since: 'now', include_docs: true });
    feed.on('change', (c) => waiters.seen(c.doc?.['seq'], performance.now()));
    const revs = new Map<string, string>();
    return {
      row: {
        name: 'peer-pouchdb',
        kind: 'peer',
        label: 'PouchDB put A → express-pouchdb → B live changes (memory adapter)',
        durability: 'server and clients: memory adapter',
        versions: { pouchdb: versionOf('pouchdb'), 'express-pouchdb': versionOf('express-pouchdb') },
      },
      async propagate(id, seq) {
        const seen = waiters.wait(seq);
        const t0 = performance.now();
        const rev = revs.get(id);
        const res = await a.put({ ...card(id, seq), _id: id, ...(rev ? { _rev: rev } : {}) });
        revs.set(id, res.rev);
        return (await seen) - t0;
      },
      async close() {
        feed.cancel();
        for (const s of syncs) s.cancel();
        await Promise.allSettled([a.close(), b.close()]);
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
