/**
 * B5 offline catch-up: client A makes the offline workload (offline-writes.ts), then reconnects;
 * measured from reconnect: until A's outbox is empty (where the peer has such a notion) and
 * until an online client B has every change; bytes on the wire of both, through counting TCP
 * proxies (child processes). Every contender ends with a full check of B's records, and Syncline
 * with scope-hash convergence of A and B against the server. Syncline reads against the durable
 * floor (`b5-floor.ts`), the floor and RxDB against Yjs.
 */
import { filter, firstValueFrom } from 'rxjs';
import { card, within } from './cards.js';
import { durableCatchUp } from './b5-floor.js';
import { rxdbCatchUp, yjsCatchUp, type CatchUp } from './b5-peers.js';
import { assertFinal, finalSeqs, offlineWrites, type OfflineWrite } from './offline-writes.js';
import { bytes, proxies } from './wire-bytes.js';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize } from './stats.js';
import { assertConverged, device, settled, until, type Device } from './syncline-device.js';
import { SQLITE_DURABILITY, synclineServer } from './syncline-server.js';

const LIMIT_MS = 90_000;

async function writeOffline(a: Device, writes: readonly OfflineWrite[]): Promise<void> {
  // 100 app writes per Dexie transaction keeps setup short; each is still its own mutation.
  for (let i = 0; i < writes.length; i += 100) {
    await a.db.transaction('rw', a.db.cards, async () => {
      for (const w of writes.slice(i, i + 100)) {
        if (w.create) await a.db.cards.put(card(w.id, w.seq));
        else await a.db.cards.update(w.id, { seq: w.seq, title: `card ${w.seq}` });
      }
    });
  }
}

async function synclineCatchUp(writes: readonly OfflineWrite[]): Promise<CatchUp> {
  const server = await synclineServer();
  const proxy = await proxies(server.port);
  const devices: Device[] = [];
  try {
    const b = await device(`http://127.0.0.1:${proxy.b.port}`);
    devices.push(b);
    await until(b, settled, 20_000, 'B5 B live');
    const a = await device(`http://127.0.0.1:${proxy.a.port}`, { online: false });
    devices.push(a);
    const w0 = performance.now();
    await writeOffline(a, writes);
    const offlineSeconds = (performance.now() - w0) / 1000;
    await until(a, (s) => s.pending === writes.length, 20_000, 'B5 A outbox full');
    const last = writes[writes.length - 1]!;
    const bHasAll = firstValueFrom(
      b.sync.liveQuery(() => b.db.cards.get(last.id)).pipe(filter((c) => c?.seq === last.seq)),
    );
    await proxy.a.call({ type: 'reset' });
    await proxy.b.call({ type: 'reset' });
    const t0 = performance.now();
    a.network.set(true);
    const [outboxMs, allMs] = await within(
      Promise.all([
        until(a, (s) => s.connected && s.pending === 0, LIMIT_MS, 'B5 A outbox empty').then(
          () => performance.now() - t0,
        ),
        bHasAll.then(() => performance.now() - t0),
      ]),
      LIMIT_MS,
      'B5 syncline catch-up',
    );
    const wire = await bytes(proxy);
    const [ha, hb] = await Promise.all([assertConverged(a, 'B5 A'), assertConverged(b, 'B5 B')]);
    if (ha !== hb) throw new Error('B5: A and B hold different scope hashes');
    const rows = await b.db.cards.toArray();
    assertFinal('B5 syncline B', finalSeqs(writes), new Map(rows.map((r) => [r.id, r.seq])));
    return { allMs, outboxMs, offlineSeconds, wire };
  } finally {
    await Promise.allSettled(devices.map((d) => d.close()));
    await proxy.stop();
    await server.stop();
  }
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const writes = offlineWrites(opts.quick);
  const n = writes.length;
  const records = finalSeqs(writes).size;
  const contenders: { row: Omit<BenchRow, 'bench'>; go(): Promise<CatchUp> }[] = [
    {
      row: {
        name: 'syncline',
        kind: 'syncline',
        label: 'SyncClient (Node, fake-indexeddb) offline writes, then reconnect',
        durability: SQLITE_DURABILITY,
        baseline: 'floor-durable',
      },
      go: () => synclineCatchUp(writes),
    },
    { row: { ...durableCatchUp.row, baseline: 'peer-yjs' }, go: () => durableCatchUp.run(writes) },
    { row: yjsCatchUp.row, go: () => yjsCatchUp.run(writes) },
    { row: { ...rxdbCatchUp.row, baseline: 'peer-yjs' }, go: () => rxdbCatchUp.run(writes) },
  ];
  const out: BenchRow[] = [];
  for (const c of contenders) {
    const r = await c.go();
    out.push({
      bench: 'B5',
      ...c.row,
      label: `${c.row.label}; ${n} offline mutations (${n - records} updates over ${records} records); one catch-up, time until online B has every change`,
      latencyMs: summarize([r.allMs]),
      extra: {
        ...(r.outboxMs === undefined ? {} : { 'outbox empty ms': Math.round(r.outboxMs) }),
        ...r.wire,
        'offline writes s': Math.round(r.offlineSeconds * 10) / 10,
      },
    });
  }
  return out;
}
