import { mulberry32 } from '@syncline/test-support';
import { device, settled, until, type Device } from '@syncline/test-support/devices';
import type { Expected } from './checks.js';

const BOARDS = ['1', '2'] as const;
export const SCOPES = BOARDS.map((b) => `board:${b}`);
const SHARED = ['s0', 's1', 's2', 's3'].map((id, i) => ({ id, board: BOARDS[i % BOARDS.length]! }));
const counterId = (board: string) => `ctr-${board}`;

export interface WorkloadOptions {
  readonly seed: number;
  /** Each device gets these URLs in its own failover order. */
  readonly urls: readonly string[];
  readonly devices: number;
  readonly opsPerDevice: number;
  /** Longest think time between two writes of a device. */
  readonly thinkMs: number;
  /** Per-device URL lists (e.g. each through its own proxy); overrides `urls`. */
  readonly urlsOf?: (i: number) => readonly string[];
}

/**
 * Devices (real `SyncClient`s on fake-indexeddb) writing at random: `inc`s of one counter per
 * board (a field per device), puts of journal records only their writer touches, and puts,
 * patches and deletes of shared records. It records what the app was told succeeded, for the
 * checks.
 */
export class Workload {
  readonly devices: Device[] = [];
  readonly #options: WorkloadOptions;
  readonly #counters = new Map<string, Map<string, number>>();
  readonly #journal = new Map<string, Record<string, unknown>>();
  readonly #random: () => number;
  /** Writes the app was told succeeded. */
  writes = 0;

  constructor(options: WorkloadOptions) {
    this.#options = options;
    this.#random = mulberry32(options.seed);
  }

  get expected(): Expected {
    return { scopes: SCOPES, counters: this.#counters, journal: this.#journal };
  }

  /** Starts every device and creates the counters; resolves once all hold them. */
  async start(): Promise<void> {
    const { seed, devices, urls } = this.#options;
    for (let i = 0; i < devices; i++) {
      const own = this.#options.urlsOf?.(i) ?? urls.map((_, k) => urls[(i + k) % urls.length]!);
      this.devices.push(
        device(own[0]!, {
          name: `chaos-${process.pid}-${seed}-${i}-${Date.now()}`,
          client: {
            url: [...own],
            scopes: [...SCOPES],
            random: mulberry32(seed + 1 + i),
            requestTimeoutMs: 4000,
          },
        }),
      );
    }
    await Promise.all(this.devices.map((d) => d.sync.start()));
    const first = this.devices[0]!;
    for (const b of BOARDS) {
      await first.db.cards.put({ id: counterId(b), board: b, title: `counter ${b}` });
      this.#counters.set(counterId(b), new Map());
    }
    // An inc needs the record locally: every device holds the counters before the faults.
    await Promise.all(
      this.devices.map(async (d) => {
        await until(d.sync, settled, 60_000);
        for (;;) {
          if ((await d.db.cards.where('id').anyOf(BOARDS.map(counterId)).count()) === BOARDS.length) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
    );
  }

  /**
   * Every device writes `opsPerDevice` times, and on while `more()` says so (the faults last);
   * resolves when all writes resolved locally.
   */
  async write(more: () => boolean = () => false): Promise<void> {
    await Promise.all(this.devices.map((d, i) => this.#writer(d, i, more)));
  }

  async #writer(d: Device, i: number, more: () => boolean): Promise<void> {
    const rnd = this.#random;
    const int = (k: number) => Math.floor(rnd() * k);
    for (let k = 0; k < this.#options.opsPerDevice || more(); k++) {
      await new Promise((r) => setTimeout(r, int(this.#options.thinkMs)));
      const roll = rnd();
      if (roll < 0.35) {
        const id = counterId(BOARDS[int(BOARDS.length)]!);
        await d.sync.inc('cards', id, `n${i}`, 1);
        const fields = this.#counters.get(id)!;
        fields.set(`n${i}`, (fields.get(`n${i}`) ?? 0) + 1);
      } else if (roll < 0.65) {
        // Some journal records are written twice: the last value must win.
        const slot = int(3) === 0 && k > 0 ? k - 1 : k;
        const id = `j-${i}-${slot}`;
        // A record keeps its board (its scope) across rewrites.
        const value = { board: BOARDS[(i + slot) % BOARDS.length]!, title: `journal ${i}/${k}` };
        await d.db.cards.put({ id, ...value });
        this.#journal.set(id, value);
      } else {
        const s = SHARED[int(SHARED.length)]!;
        if (roll < 0.8) await d.db.cards.put({ id: s.id, board: s.board, title: `put by ${i}`, likes: k });
        else if (roll < 0.93) await d.db.cards.update(s.id, { status: `set by ${i}`, notes: `#${k}` });
        else await d.db.cards.delete(s.id);
      }
      this.writes++;
    }
  }

  /** Closes every device and deletes its database. */
  async close(): Promise<void> {
    for (const d of this.devices.splice(0)) {
      await d.sync.close().catch(() => undefined);
      await d.db.delete().catch(() => undefined);
    }
  }
}
