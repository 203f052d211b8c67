/**
 * B5's peers on the same workload. Yjs: one nested Y.Map per record (fields set in place, the
 * idiomatic Yjs model), the provider connected after the offline edits; Yjs has no outbox, so
 * only "B has every change" is reported. RxDB: memory storage, replication started after the
 * offline writes; `awaitInSync()` is its outbox-empty.
 */
import * as Y from 'yjs';
import { filter, firstValueFrom } from 'rxjs';
import { card, within } from './cards.js';
import { bytes, proxies } from './wire-bytes.js';
import { assertFinal, finalSeqs, type OfflineWrite } from './offline-writes.js';
import { rxReplica, rxdbVersions, startRxdbServer } from './peers/rxdb-pair.js';
import { closeReplica, startYjsServer, yReplica, yjsVersions, type YReplica } from './peers/yjs-pair.js';
import type { BenchRow } from './report.js';

export interface CatchUp {
  readonly allMs: number;
  readonly outboxMs?: number;
  readonly offlineSeconds: number;
  readonly wire: Readonly<Record<string, number>>;
}

const LIMIT_MS = 90_000;
type Fields = Y.Map<string | number>;

const records = (r: YReplica) => r.doc.getMap<Fields>('records');

export const yjsCatchUp = {
  row: {
    name: 'peer-yjs',
    kind: 'peer',
    label: 'Yjs doc (nested Y.Map per record) edited offline, then y-websocket connects',
    durability: 'server: memory only',
    versions: yjsVersions(),
  } satisfies Omit<BenchRow, 'bench'>,
  async run(writes: readonly OfflineWrite[]): Promise<CatchUp> {
    const { server, url: direct } = await startYjsServer();
    const proxy = await proxies(server.port);
    const replicas: YReplica[] = [];
    try {
      const url = (p: number) => direct.replace(String(server.port), String(p));
      const b = await yReplica(url(proxy.b.port), 'b5');
      const a = await yReplica(url(proxy.a.port), 'b5', false);
      replicas.push(a, b);
      const w0 = performance.now();
      for (const w of writes) {
        a.doc.transact(() => {
          if (w.create) {
            const rec = new Y.Map<string | number>();
            records(a).set(w.id, rec);
            for (const [k, v] of Object.entries(card(w.id, w.seq))) rec.set(k, v);
          } else {
            const rec = records(a).get(w.id)!;
            rec.set('seq', w.seq);
            rec.set('title', `card ${w.seq}`);
          }
        });
      }
      const offlineSeconds = (performance.now() - w0) / 1000;
      const last = writes[writes.length - 1]!;
      const bHasAll = new Promise<void>((resolve) => {
        const check = () => {
          if (records(b).get(last.id)?.get('seq') === last.seq) resolve();
        };
        records(b).observeDeep(check);
      });
      await proxy.a.call({ type: 'reset' });
      await proxy.b.call({ type: 'reset' });
      const t0 = performance.now();
      a.provider.connect();
      await within(bHasAll, LIMIT_MS, 'B5 yjs: B never got every change');
      const allMs = performance.now() - t0;
      const wire = await bytes(proxy);
      const seen = new Map([...records(b).entries()].map(([id, rec]) => [id, rec.get('seq')]));
      assertFinal('B5 yjs B', finalSeqs(writes), seen);
      return { allMs, offlineSeconds, wire };
    } finally {
      for (const r of replicas) closeReplica(r);
      await proxy.stop();
      await server.stop();
    }
  },
};

export const rxdbCatchUp = {
  row: {
    name: 'peer-rxdb',
    kind: 'peer',
    label: 'RxDB (memory storage) upserts offline, then websocket replication starts',
    durability: 'server and clients: RxDB memory storage',
    versions: rxdbVersions(),
  } satisfies Omit<BenchRow, 'bench'>,
  async run(writes: readonly OfflineWrite[]): Promise<CatchUp> {
    const { server, url: direct } = await startRxdbServer();
    const proxy = await proxies(server.port);
    const closers: (() => Promise<unknown>)[] = [];
    try {
      const url = (p: number) => direct.replace(String(server.port), String(p));
      const b = await rxReplica(url(proxy.b.port));
      closers.push(() => b.db.close());
      await b.replicate();
      const a = await rxReplica(url(proxy.a.port));
      closers.push(() => a.db.close());
      const w0 = performance.now();
      for (const w of writes) await a.cards.upsert(card(w.id, w.seq));
      const offlineSeconds = (performance.now() - w0) / 1000;
      const last = writes[writes.length - 1]!;
      const bHasAll = firstValueFrom(b.cards.findOne(last.id).$.pipe(filter((d) => d?.seq === last.seq)));
      await proxy.a.call({ type: 'reset' });
      await proxy.b.call({ type: 'reset' });
      const t0 = performance.now();
      const [outboxMs, allMs] = await within(
        Promise.all([
          a.replicate().then(async (state) => {
            await state.awaitInSync();
            return performance.now() - t0;
          }),
          bHasAll.then(() => performance.now() - t0),
        ]),
        LIMIT_MS,
        'B5 rxdb catch-up',
      );
      const wire = await bytes(proxy);
      const docs = await b.cards.find().exec();
      assertFinal('B5 rxdb B', finalSeqs(writes), new Map(docs.map((d) => [d.id, d.seq])));
      return { allMs, outboxMs, offlineSeconds, wire };
    } finally {
      for (const close of closers) await close().catch(() => undefined);
      await proxy.stop();
      await server.stop();
    }
  },
};
