import { expect } from 'vitest';
import { clusterName } from '@syncline/server';
import { mulberry32, type ServerProcess } from '@syncline/test-support';
import { alive, killAll, spawnNode, untilReadyz } from './cluster-nodes.js';
import { deleteRedisKey, dropSchema, query, testSchema } from '@syncline/test-support/databases';
import { clusterDevice, rotate } from './cluster-devices.js';
import { converged, settled, until, type Device } from '@syncline/test-support/devices';

const NODES = 3;
const CLIENTS = 30;
const OPS_PER_CLIENT = 12;
const BOARDS = ['1', '2', '3'] as const;
const SCOPES = BOARDS.map((b) => `board:${b}`);
/** Shared cards: put, patched and deleted by everyone; each always lives on the same board. */
const SHARED = Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, board: BOARDS[i % BOARDS.length]! }));
/** Counter card of each board: created once, then only incremented (field `n<client>`). */
const counterId = (board: string) => `ctr-${board}`;

export interface ClusterRunOptions {
  readonly pgUrl: string;
  /** Fan out through Redis Streams instead of PostgreSQL LISTEN/NOTIFY. */
  readonly redisUrl?: string;
  readonly seed: number;
}

/**
 * The cluster run of issue 5: three `syncline-server` processes on one PostgreSQL, thirty Node
 * `SyncClient`s spread over them (each knows every node, in its own failover order), writing at
 * random — puts, patches, deletes of shared cards, `inc`s of per-board counters, and puts of
 * journal cards only their writer touches — while node 0 is SIGKILLed half-way. Then every
 * client must converge to the database, every acknowledged write must be there, and none twice.
 */
export class ClusterRun {
  readonly schema = testSchema();
  readonly nodes: ServerProcess[] = [];
  readonly devices: Device[] = [];
  readonly #o: ClusterRunOptions;

  constructor(options: ClusterRunOptions) {
    this.#o = options;
  }

  /**
   * Closes every client, kills every node, drops the schema and the Redis stream, whatever state
   * the run is in.
   */
  async cleanup(): Promise<void> {
    await Promise.allSettled(this.devices.splice(0).map((d) => d.sync.close()));
    await killAll(this.nodes);
    await dropSchema(this.#o.pgUrl, this.schema);
    if (this.#o.redisUrl !== undefined) {
      // The CLI's stream name (see cli.ts): one per database and schema.
      await deleteRedisKey(this.#o.redisUrl, `syncline:${clusterName(this.#o.pgUrl, this.schema)}`);
    }
  }

  async run(): Promise<void> {
    const { pgUrl, redisUrl, seed } = this.#o;
    const t0 = Date.now();
    const rnd = mulberry32(seed);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

    // The first node migrates the new schema alone; the others start against it together.
    const nodeOpts = { pgUrl, schema: this.schema, ...(redisUrl !== undefined ? { redisUrl } : {}) };
    this.nodes.push(await spawnNode(nodeOpts));
    this.nodes.push(...(await Promise.all([spawnNode(nodeOpts), spawnNode(nodeOpts)])));
    expect(this.nodes).toHaveLength(NODES);
    await Promise.all(this.nodes.map((n) => untilReadyz(n, 200)));
    const urls = this.nodes.map((n) => n.url);

    for (let i = 0; i < CLIENTS; i++) {
      this.devices.push(
        clusterDevice(rotate(urls, i % NODES), SCOPES, {
          name: `cluster-${process.pid}-${seed}-${i}`,
          random: mulberry32(seed + 1 + i),
        }),
      );
    }
    const [first] = this.devices;
    await Promise.all(this.devices.map((d) => d.sync.start()));
    for (const b of BOARDS) await first!.db.cards.put({ id: counterId(b), board: b, title: `counter ${b}` });
    // Everyone holds the counters before the run: an inc needs the record locally.
    await this.#convergeAll();

    const t1 = Date.now();
    const incs = this.devices.map(() => new Map<string, number>(BOARDS.map((b) => [b, 0])));
    const journal = new Map<string, { title: string; board: string }>();
    const killAt = Math.floor((CLIENTS * OPS_PER_CLIENT) / 2);
    let done = 0;
    let killed: Promise<number | string> | undefined;
    const victim = this.nodes[0]!;

    const writer = async (i: number, d: Device) => {
      for (let k = 0; k < OPS_PER_CLIENT; k++) {
        // Think time spreads the writes over the run (pacing, not synchronization).
        await new Promise((r) => setTimeout(r, int(40)));
        const roll = rnd();
        if (roll < 0.3) {
          const b = pick(BOARDS);
          await d.sync.inc('cards', counterId(b), `n${i}`, 1);
          incs[i]!.set(b, incs[i]!.get(b)! + 1);
        } else if (roll < 0.55) {
          const id = `j-${i}-${k}`;
          const card = { title: `journal ${i}/${k}`, board: pick(BOARDS) };
          await d.db.cards.put({ id, ...card });
          journal.set(id, card);
        } else {
          const s = pick(SHARED);
          if (roll < 0.75) await d.db.cards.put({ id: s.id, board: s.board, title: `put by ${i}`, likes: k });
          else if (roll < 0.9) await d.db.cards.update(s.id, { status: `set by ${i}`, notes: `#${k}` });
          else await d.db.cards.delete(s.id);
        }
        if (++done === killAt) {
          victim.proc.kill('SIGKILL');
          killed = victim.exited;
        }
      }
    };
    await Promise.all(this.devices.map((d, i) => writer(i, d)));
    expect(await killed).toBe('SIGKILL');
    expect(this.nodes.slice(1).every(alive)).toBe(true);

    const t2 = Date.now();
    // Every client, a third of them failed over from the dead node, equals the database.
    await this.#convergeAll();
    for (const d of this.devices) {
      expect(await until(d.sync, () => true)).toMatchObject({ pending: 0, rejections: 0, conflicts: 0 });
    }
    const t3 = Date.now();
    await this.#checkDatabase(incs, journal);
    console.log(
      `cluster run (${redisUrl !== undefined ? 'redis' : 'postgres'} fan-out): setup ${t1 - t0} ms, ` +
        `writes ${t2 - t1} ms, converge ${t3 - t2} ms; ${journal.size} journal puts, ` +
        `${incs.reduce((n, m) => n + [...m.values()].reduce((a, b) => a + b, 0), 0)} incs`,
    );
  }

  /**
   * Waits until every device is settled and its hash of each scope equals the server's; returns
   * the devices' hashes. The server hashes are taken once all are settled and again at the end:
   * nothing may have changed in between.
   */
  async #convergeAll(): Promise<Map<string, string>[]> {
    const [first] = this.devices;
    await Promise.all(this.devices.map((d) => until(d.sync, settled, 30_000)));
    const serverHashes = async () =>
      new Map(
        await Promise.all(SCOPES.map(async (s) => [s, (await first!.sync.serverHash(s)).hash] as const)),
      );
    const before = await serverHashes();
    const out = await Promise.all(
      this.devices.map(async (d) => {
        const hashes = new Map<string, string>();
        for (const scope of SCOPES) {
          // Usually equal at once; a device still applying a last broadcast gets a moment more.
          const local = (await d.sync.localHash(scope)).hash;
          hashes.set(scope, local === before.get(scope) ? local : await converged(d, scope, 30_000));
        }
        return hashes;
      }),
    );
    expect(await serverHashes()).toEqual(before);
    for (const hashes of out) expect(hashes).toEqual(before);
    return out;
  }

  async #checkDatabase(
    incs: readonly Map<string, number>[],
    journal: ReadonlyMap<string, { title: string; board: string }>,
  ): Promise<void> {
    const { pgUrl } = this.#o;
    const s = `"${this.schema}"`;
    // None applied twice: every (client id, mid) appears at most once in history.
    expect(
      await query(
        pgUrl,
        `SELECT client_id, mid, count(*)::int AS n FROM ${s}.history
          WHERE client_id IS NOT NULL GROUP BY client_id, mid HAVING count(*) > 1`,
      ),
    ).toEqual([]);
    // Versions stayed gapless and match the scope counters across three nodes and a crash.
    const versions = await query<{ scope: string; n: number; top: number; head: number }>(
      pgUrl,
      `SELECT h.scope, count(*)::int AS n, max(h.version)::int AS top, s.head::int AS head
         FROM ${s}.history h JOIN ${s}.scopes s USING (scope) GROUP BY h.scope, s.head ORDER BY h.scope`,
    );
    expect(versions.map((v) => v.scope)).toEqual(SCOPES);
    for (const v of versions) expect([v.n, v.top]).toEqual([v.head, v.head]);

    // Every acknowledged inc counted exactly once, in the record and in history.
    const ids = this.devices.map((d) => d.sync.clientId);
    const counters = await query<{ id: string; value: string }>(
      pgUrl,
      `SELECT id, value FROM ${s}.records WHERE collection = 'cards' AND id LIKE 'ctr-%'`,
    );
    // History: each inc entry adds its client's field by what that client's incs (one, or a
    // coalesced run) added; summed per client they must equal what it made, none twice.
    const incHistory = await query<{
      id: string;
      op: string;
      client_id: string | null;
      value: string | null;
    }>(
      pgUrl,
      `SELECT id, op, client_id, value FROM ${s}.history
        WHERE collection = 'cards' AND id LIKE 'ctr-%' ORDER BY id, version`,
    );
    const logged = new Map<string, number>();
    const before = new Map<string, Record<string, unknown>>();
    for (const h of incHistory) {
      const now = h.value === null ? {} : (JSON.parse(h.value) as Record<string, unknown>);
      const i = ids.indexOf(h.client_id as (typeof ids)[number]);
      if (h.op === 'inc' && i >= 0) {
        const field = `n${i}`;
        const added = Number(now[field] ?? 0) - Number(before.get(h.id)?.[field] ?? 0);
        logged.set(`${h.id}/${i}`, (logged.get(`${h.id}/${i}`) ?? 0) + added);
      }
      before.set(h.id, now);
    }
    let totalIncs = 0;
    for (const b of BOARDS) {
      const value = JSON.parse(counters.find((c) => c.id === counterId(b))!.value) as Record<string, unknown>;
      incs.forEach((perBoard, i) => {
        const made = perBoard.get(b)!;
        totalIncs += made;
        expect(value[`n${i}`] ?? 0).toBe(made);
        expect(logged.get(`${counterId(b)}/${i}`) ?? 0).toBe(made);
      });
    }
    expect(totalIncs).toBeGreaterThan(0);

    // Every acknowledged journal put is there, as written.
    const rows = await query<{ id: string; value: string | null }>(
      pgUrl,
      `SELECT id, value FROM ${s}.records WHERE collection = 'cards' AND id LIKE 'j-%'`,
    );
    const stored = new Map(
      rows.map((r) => [r.id, r.value === null ? null : (JSON.parse(r.value) as object)]),
    );
    expect(stored.size).toBe(journal.size);
    for (const [id, card] of journal) expect(stored.get(id)).toEqual({ id, ...card });
  }
}
