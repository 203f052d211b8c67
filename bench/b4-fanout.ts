/**
 * B4 fan-out: one writer, M subscribers spread over two load-generator processes; per write, the
 * time until the last subscriber has it (writer and loads share the machine's wall clock, with
 * each load's offset measured over IPC), and the server's idle RSS per subscribed connection
 * (RSS delta over M, from /proc). Syncline and the raw Socket.IO room broadcast run at every M,
 * y-websocket at M = 50. Each contender gets a fresh server process per M, so RSS deltas are clean.
 */
import { SCOPE, sleep, wallMs } from './cards.js';
import { socketioWriter, synclineWriter, yjsWriter, type Writer } from './b4-writers.js';
import { yjsVersions } from './peers/yjs-pair.js';
import { versionOf } from './peers/untyped.js';
import { rssBytes, startPeer, type Peer } from './processes.js';
import type { BenchOptions, BenchRow } from './report.js';
import { summarize } from './stats.js';
import { SQLITE_DURABILITY, synclineServer } from './syncline-server.js';

interface Contender {
  readonly name: string;
  readonly kind: BenchRow['kind'];
  readonly mode: 'syncline' | 'socketio' | 'yjs';
  readonly label: string;
  start(): Promise<{ url: string; pid: number; stop(): Promise<void> }>;
  writer(url: string): Promise<Writer>;
  readonly extraRow?: Pick<BenchRow, 'versions' | 'durability'>;
}

const peerServer = async (script: string, scheme: string) => {
  const p = await startPeer(script);
  return { url: `${scheme}://127.0.0.1:${p.port}`, pid: p.pid, stop: () => p.stop() };
};

const SYNCLINE: Contender = {
  name: 'syncline',
  kind: 'syncline',
  mode: 'syncline',
  label: 'syncline-server (SQLite): push → commit → broadcast to subscribed sockets',
  start: () => synclineServer(),
  writer: synclineWriter,
  extraRow: { durability: SQLITE_DURABILITY },
};
const FLOOR: Contender = {
  name: 'floor-socketio',
  kind: 'floor',
  mode: 'socketio',
  label: 'raw Socket.IO room broadcast of the same message (no storage)',
  start: () => peerServer('socketio-floor', 'http'),
  writer: socketioWriter,
  extraRow: { versions: { 'socket.io': versionOf('socket.io') }, durability: 'none' },
};
const YJS: Contender = {
  name: 'peer-yjs',
  kind: 'peer',
  mode: 'yjs',
  label: 'y-websocket: Y.Map set → @y/websocket-server → M providers',
  start: () => peerServer('yjs-server', 'ws'),
  writer: yjsWriter,
  extraRow: { versions: yjsVersions(), durability: 'server: memory only' },
};

/** Offset of a load process's wall clock from ours (best of 5 IPC round trips). */
async function clockOffset(load: Peer): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const t1 = wallMs();
    const { now } = await load.call<{ now: number }>({ type: 'clock' });
    const t2 = wallMs();
    if (t2 - t1 < best.rtt) best = { rtt: t2 - t1, offset: now - (t1 + t2) / 2 };
  }
  return best.offset;
}

async function measure(
  c: Contender,
  m: number,
  loads: Peer[],
  offsets: number[],
  rounds: number,
  warmup: number,
): Promise<BenchRow> {
  const server = await c.start();
  let writer: Writer | undefined;
  try {
    await sleep(300);
    const rssBefore = rssBytes(server.pid);
    const t0 = performance.now();
    const share = (i: number) => Math.floor(m / loads.length) + (i < m % loads.length ? 1 : 0);
    await Promise.all(
      loads.map((load, i) =>
        load.call(
          {
            type: 'connect',
            url: server.url,
            mode: c.mode,
            count: share(i),
            prefix: `b4_${c.name}_${m}_${i}_${Date.now()}`,
            scope: SCOPE,
          },
          120_000,
        ),
      ),
    );
    const connectSeconds = (performance.now() - t0) / 1000;
    await sleep(1_000); // idle: handshakes and subscriptions settled
    const rssPerConn = (rssBytes(server.pid) - rssBefore) / m;
    writer = await c.writer(server.url);
    const lastMs: number[] = [];
    const deliveries: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const seq = r + 1;
      const waits = loads.map((load, i) =>
        load.call<{ times: number[] }>({ type: 'await', seq, expect: share(i) }, 15_000),
      );
      const sent = wallMs();
      writer.send(seq);
      const got = await Promise.all(waits).catch(async (err: unknown) => {
        const counts = await Promise.all(loads.map((l) => l.call<{ count: number }>({ type: 'count', seq })));
        throw new Error(
          `B4 ${c.name} M=${m}: only ${counts.reduce((a, x) => a + x.count, 0)} of ${m} subscribers got write ${seq} (${String(err)})`,
        );
      });
      const times = got.flatMap((g, i) => g.times.map((t) => t - offsets[i]! - sent));
      if (r >= warmup) {
        lastMs.push(Math.max(...times));
        deliveries.push(...times);
      }
      await writer.check();
      await sleep(20);
    }
    const each = summarize(deliveries);
    return {
      bench: 'B4',
      name: `${c.name}-M${m}`,
      kind: c.kind,
      label: `${c.label}; M = ${m} over ${loads.length} load processes; time until the last subscriber has the write, ${lastMs.length} writes`,
      latencyMs: summarize(lastMs),
      extra: {
        'each p50 ms': each.p50,
        'each p99 ms': each.p99,
        'RSS/conn KiB': Math.round((rssPerConn / 1024) * 10) / 10,
        'connect s': Math.round(connectSeconds * 10) / 10,
      },
      ...(c.kind === 'floor' ? {} : { baseline: `floor-socketio-M${m}` }),
      ...c.extraRow,
    };
  } finally {
    writer?.close();
    await Promise.allSettled(loads.map((l) => l.call({ type: 'close' })));
    await server.stop();
  }
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const sizes = opts.quick ? [20] : [50, 1_000, 4_000];
  const rounds = opts.quick ? 6 : 23;
  const warmup = 3;
  const loads = await Promise.all([startPeer('fanout-load'), startPeer('fanout-load')]);
  try {
    const offsets = await Promise.all(loads.map(clockOffset));
    const rows: BenchRow[] = [];
    for (const m of sizes) {
      // Interleaved per M: Syncline, then the floor, then the peer where it is measured.
      rows.push(await measure(SYNCLINE, m, loads, offsets, rounds, warmup));
      rows.push(await measure(FLOOR, m, loads, offsets, rounds, warmup));
      if (m <= 50) rows.push(await measure(YJS, m, loads, offsets, rounds, warmup));
    }
    return rows;
  } finally {
    await Promise.allSettled(loads.map((l) => l.stop()));
  }
}
