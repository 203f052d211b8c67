import { firstValueFrom } from 'rxjs';
import { converged, type Device } from '@syncline/test-support/devices';
import type { Check } from './scenario.js';
import type { ServerDb } from './server-db.js';

/** What the clients wrote, as far as the app was told the writes succeeded. */
export interface Expected {
  /** Scopes the run wrote to. */
  readonly scopes: readonly string[];
  /** Counter records: id → field → how many `inc(…, 1)` calls resolved. */
  readonly counters: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Records only their writer touched: id → the value last written (without `id`). */
  readonly journal: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

const pass = (name: string): Check => ({ name, ok: true });
const fail = (name: string, detail: string): Check => ({ name, ok: false, detail });
const n = (v: unknown) => Number(v);

/**
 * Every acknowledged write is on the server: each journal record holds the value its writer
 * last put.
 */
export async function acknowledgedWritesPresent(db: ServerDb, expected: Expected): Promise<Check> {
  const name = 'acknowledged writes present';
  const rows = await db.query<{ id: string; value: string | null }>(
    `SELECT id, value FROM ${db.table('records')} WHERE collection = 'cards' AND id LIKE 'j-%'`,
  );
  const stored = new Map(rows.map((r) => [r.id, r.value === null ? null : (JSON.parse(r.value) as unknown)]));
  const missing: string[] = [];
  for (const [id, value] of expected.journal) {
    if (JSON.stringify(stored.get(id)) !== JSON.stringify({ id, ...value })) missing.push(id);
  }
  return missing.length === 0
    ? pass(name)
    : fail(
        name,
        `${missing.length}/${expected.journal.size} missing or stale: ${missing.slice(0, 5).join(', ')}`,
      );
}

/**
 * What the `inc` entries of a record's history added to each field, summed. One entry may
 * stand for several increments (a coalesced run, protocol 5), so the sum is what must match
 * the increments made, not the number of entries.
 */
async function incAddedInHistory(db: ServerDb, id: string): Promise<Map<string, number>> {
  const entries = await db.query<{ op: string; value: string | null }>(
    `SELECT op, value FROM ${db.table('history')} WHERE collection = 'cards' AND id = '${id}' ORDER BY version`,
  );
  const added = new Map<string, number>();
  let before: Record<string, unknown> = {};
  for (const e of entries) {
    const now = (e.value === null ? {} : JSON.parse(e.value)) as Record<string, unknown>;
    if (e.op === 'inc')
      for (const field of new Set([...Object.keys(now), ...Object.keys(before)])) {
        const delta = Number(now[field] ?? 0) - Number(before[field] ?? 0);
        if (Number.isFinite(delta) && delta !== 0) added.set(field, (added.get(field) ?? 0) + delta);
      }
    before = now;
  }
  return added;
}

/**
 * Every mutation applied once: counters equal the number of acknowledged `inc`s, the `inc`
 * entries of history added exactly as much, and no (client id, mid) pair appears twice in history.
 */
export async function appliedOnce(db: ServerDb, expected: Expected): Promise<Check> {
  const name = 'every mutation applied once (counters exact)';
  const dups = await db.query<{ client_id: string; mid: number }>(
    `SELECT client_id, mid FROM ${db.table('history')}
      WHERE client_id IS NOT NULL GROUP BY client_id, mid HAVING count(*) > 1`,
  );
  if (dups.length > 0)
    return fail(name, `${dups.length} (client, mid) applied twice, e.g. mid ${dups[0]!.mid}`);
  const rows = await db.query<{ id: string; value: string | null }>(
    `SELECT id, value FROM ${db.table('records')} WHERE collection = 'cards' AND id LIKE 'ctr-%'`,
  );
  const wrong: string[] = [];
  for (const [id, fields] of expected.counters) {
    const row = rows.find((r) => r.id === id);
    const value = (row?.value === undefined || row.value === null ? {} : JSON.parse(row.value)) as Record<
      string,
      unknown
    >;
    const logged = await incAddedInHistory(db, id);
    for (const [field, count] of fields) {
      if ((value[field] ?? 0) !== count) wrong.push(`${id}.${field}: ${String(value[field])} ≠ ${count}`);
      const added = logged.get(field) ?? 0;
      if (added !== count) wrong.push(`${id}.${field}: history's inc entries add ${added} ≠ ${count}`);
    }
  }
  return wrong.length === 0 ? pass(name) : fail(name, wrong.slice(0, 5).join('; '));
}

/** Versions gapless per scope: history holds exactly 1..head once each (the scope counter). */
export async function versionsGapless(db: ServerDb, expected: Expected): Promise<Check> {
  const name = 'versions gapless per scope';
  const rows = await db.query<{ scope: string; n: unknown; d: unknown; top: unknown; head: unknown }>(
    `SELECT s.scope, count(h.version) AS n, count(DISTINCT h.version) AS d, max(h.version) AS top,
            s.head AS head
       FROM ${db.table('scopes')} s LEFT JOIN ${db.table('history')} h ON h.scope = s.scope
      GROUP BY s.scope, s.head`,
  );
  const bad: string[] = [];
  for (const scope of expected.scopes) {
    const r = rows.find((x) => x.scope === scope);
    if (r === undefined) bad.push(`${scope}: no scope row`);
    else if (![r.n, r.d, r.top].every((v) => n(v) === n(r.head)))
      bad.push(`${scope}: head ${n(r.head)}, ${n(r.n)} entries, ${n(r.d)} distinct, max ${n(r.top)}`);
  }
  return bad.length === 0 ? pass(name) : fail(name, bad.join('; '));
}

/**
 * Every replica equals the server: each device settles (nothing pending) and its hash of every
 * scope equals the server's; the server's hashes do not move while the devices are compared.
 */
export async function replicasEqualServer(
  devices: readonly Device[],
  scopes: readonly string[],
  timeoutMs = 30_000,
): Promise<Check> {
  const name = 'every replica equals the server';
  try {
    const first = devices[0]!;
    const serverHashes = async () =>
      Promise.all(scopes.map(async (s) => (await first.sync.serverHash(s)).hash));
    for (const d of devices) for (const s of scopes) await converged(d, s, timeoutMs);
    const before = await serverHashes();
    for (const d of devices) {
      for (const [i, s] of scopes.entries()) {
        const local = await d.sync.localHash(s);
        if (local.hash !== before[i]) return fail(name, `a device's ${s} differs after settling`);
      }
    }
    const after = await serverHashes();
    if (after.join() !== before.join()) return fail(name, 'the server changed while nobody wrote');
    return pass(name);
  } catch (err) {
    // What each device was doing, to tell a slow machine from a stuck client.
    const states = await Promise.all(
      devices.map(async (d) => {
        const s = await firstValueFrom(d.sync.status$);
        return `${s.phase}/${s.connected ? 'connected' : 'disconnected'}/pending ${s.pending}/${s.lastError?.code ?? '-'}`;
      }),
    );
    return fail(name, `${(err as Error).message}; devices: ${states.join(', ')}`);
  }
}

/** The storage checks, in order. */
export async function storageChecks(db: ServerDb, expected: Expected): Promise<Check[]> {
  return [
    await acknowledgedWritesPresent(db, expected),
    await appliedOnce(db, expected),
    await versionsGapless(db, expected),
  ];
}

/**
 * A counter field whose last `inc`s may or may not have been made (the tab closed while they
 * ran): at least the acknowledged ones, at most the attempted ones, and history's `inc` entries
 * adding up to the value (none applied twice).
 */
export async function counterWithin(
  db: ServerDb,
  id: string,
  field: string,
  acknowledged: number,
  attempted: number,
): Promise<Check> {
  const name = 'every mutation applied once (counter within acknowledged..attempted)';
  const [row] = await db.query<{ value: string | null }>(
    `SELECT value FROM ${db.table('records')} WHERE collection = 'cards' AND id = '${id}'`,
  );
  const value = Number((JSON.parse(row?.value ?? '{}') as Record<string, unknown>)[field] ?? 0);
  const added = (await incAddedInHistory(db, id)).get(field) ?? 0;
  return value >= acknowledged && value <= attempted && added === value
    ? pass(name)
    : fail(
        name,
        `${id}.${field} = ${value}, history's inc entries add ${added}; acknowledged ${acknowledged}, attempted ${attempted}`,
      );
}

/**
 * Transactions whose outcome the app never learned (the tab closed) landed whole or not at all;
 * writes the app was told failed are nowhere on the server.
 */
export async function allOrNothing(
  db: ServerDb,
  unknownTxns: readonly (readonly string[])[],
  refused: readonly string[],
): Promise<Check> {
  const name = 'unacknowledged transactions all or nothing; refused writes absent';
  const rows = await db.query<{ id: string; value: string | null }>(
    `SELECT id, value FROM ${db.table('records')} WHERE collection = 'cards'`,
  );
  const present = new Set(rows.filter((r) => r.value !== null).map((r) => r.id));
  const torn = unknownTxns.filter((ids) => {
    const k = ids.filter((id) => present.has(id)).length;
    return k !== 0 && k !== ids.length;
  });
  const leaked = refused.filter((id) => present.has(id));
  return torn.length === 0 && leaked.length === 0
    ? pass(name)
    : fail(
        name,
        `${torn.length} torn transactions (${torn[0]?.join(',') ?? ''}); refused but stored: ${leaked.slice(0, 5).join(',')}`,
      );
}
