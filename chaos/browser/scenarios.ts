import { mulberry32 } from '@syncline/test-support';
import {
  acknowledgedWritesPresent,
  allOrNothing,
  counterWithin,
  versionsGapless,
  type Expected,
} from '../checks.js';
import { result, type Check, type RunContext, type RunResult, type Scenario } from '../scenario.js';
import type { CdpPage } from '../../test/browser/cdp-browser.js';
import { pageConverged, startBrowserRig, type BrowserRig } from './rig.js';
import type { ChaosCard } from './chaos-app.js';

const SCOPE = 'board:1';
const COUNTER = 'ctr-1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a tab's writes told the app, kept on the Node side (it outlives the tab). */
class Ledger {
  readonly journal = new Map<string, Record<string, unknown>>();
  readonly unknown: string[][] = [];
  readonly refused: string[] = [];
  /** The errors refused writes came back with. */
  readonly errors = new Set<string>();
  incsAcked = 0;
  incsAttempted = 0;
  #k = 0;

  /** One write: an inc, or a transaction of 2–4 journal cards; recorded by its answer. */
  async step(page: CdpPage, rnd: () => number, field: string, blobBytes = 0): Promise<'ok' | 'refused'> {
    const k = this.#k++;
    if (blobBytes === 0 && rnd() < 0.3) {
      this.incsAttempted++;
      const a = await page.evaluate((f) => window.chaos!.inc('ctr-1', f), field);
      if (a.ok) this.incsAcked++;
      else this.errors.add(a.error);
      return a.ok ? 'ok' : 'refused';
    }
    const cards: ChaosCard[] = Array.from({ length: 2 + Math.floor(rnd() * 3) }, (_, i) => ({
      id: `j-${field}-${k}-${i}`,
      board: '1',
      title: `txn ${k} card ${i}`,
      ...(blobBytes > 0 ? { blob: 'x'.repeat(blobBytes) } : {}),
    }));
    const ids = cards.map((c) => c.id);
    this.unknown.push(ids);
    const a = await page.evaluate((cs) => window.chaos!.putMany(cs), cards);
    this.unknown.pop();
    if (a.ok) for (const { id, ...rest } of cards) this.journal.set(id, rest);
    else {
      this.refused.push(...ids);
      this.errors.add(a.error);
    }
    return a.ok ? 'ok' : 'refused';
  }

  expected(): Expected {
    return { scopes: [SCOPE], counters: new Map(), journal: this.journal };
  }

  async checks(rig: BrowserRig, field: string): Promise<Check[]> {
    return [
      await acknowledgedWritesPresent(rig.db, this.expected()),
      await counterWithin(rig.db, COUNTER, field, this.incsAcked, this.incsAttempted),
      await allOrNothing(rig.db, this.unknown, this.refused),
      await versionsGapless(rig.db, this.expected()),
    ];
  }
}

async function converge(page: CdpPage, timeoutMs: number): Promise<Check> {
  const name = 'every replica equals the server';
  try {
    await pageConverged(page, SCOPE, timeoutMs);
    return { name, ok: true };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message };
  }
}

async function withCounter(rig: BrowserRig, dbName: string): Promise<CdpPage> {
  const page = await rig.open(dbName, 'a');
  await page.evaluate(() => window.chaos!.putMany([{ id: 'ctr-1', board: '1', title: 'counter' }]));
  await pageConverged(page, SCOPE, 60_000);
  return page;
}

/**
 * A tab writing transactions and incs (online, or offline so the outbox fills) is closed at a
 * random moment, mid-transaction; a new tab of the same device opens and syncs.
 */
async function pageClose(seed: number, ctx: RunContext): Promise<RunResult> {
  const rnd = mulberry32(seed ^ 0xc105e);
  const rig = await startBrowserRig(ctx);
  const page = await withCounter(rig, `chaos-${seed}`);
  const offline = rnd() < 0.5;
  if (offline) await page.evaluate(() => window.chaos!.setOnline(false));
  const ledger = new Ledger();
  const closeAt = 300 + rnd() * 1500;
  let closed = false;
  // The loop keeps writing until a write fails because the tab is gone: mid-transaction.
  const closing = sleep(closeAt).then(async () => {
    await page.close();
    closed = true;
  });
  let steps = 0;
  try {
    while (!closed) {
      await ledger.step(page, rnd, 'a');
      steps++;
    }
  } catch {
    // The tab closed under a write: its outcome stays unknown to the app.
  }
  await closing;
  const again = await rig.open(`chaos-${seed}`, 'b');
  const replicas = await converge(again, 60_000);
  return result(
    [...(await ledger.checks(rig, 'a')), replicas],
    `${offline ? 'offline' : 'online'} tab closed after ${Math.round(closeAt)} ms, ${steps} writes acknowledged, ${ledger.unknown.length} in flight`,
  );
}

/** Polls a tab's status until `pred` holds; the milliseconds it took, or -1 after `timeoutMs`. */
async function untilStatus(
  page: CdpPage,
  pred: (s: { isLeader: boolean } | null) => boolean,
  timeoutMs: number,
): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (pred(await page.evaluate(() => window.chaos!.status()))) return Date.now() - t0;
    await sleep(100);
  }
  return -1;
}

/** The bound: a follower takes over within 10 s of the leader's last progress. */
export const TAKEOVER_MS = 10_000;

/**
 * Two tabs of one device; the follower writes, and the leader is frozen over raw CDP (or its
 * JavaScript hung: no `freeze` event) while a follower write is in flight. While it stays so the
 * follower must take the lead within 10 s. Then the frozen leader is either woken (it must step down: its lease epoch is stale, so
 * it sends nothing more) or killed; the follower writes on and must sync everything exactly
 * once. (A frozen tab's open IndexedDB transactions block the other tab's writes until it wakes
 * or dies, or Chromium aborts them after about 60 s; see docs/reliability.md.)
 */
async function leaderFrozen(seed: number, ctx: RunContext): Promise<RunResult> {
  const rnd = mulberry32(seed ^ 0xf4023);
  const rig = await startBrowserRig(ctx);
  const leader = await withCounter(rig, `chaos-${seed}`);
  const follower = await rig.open(`chaos-${seed}`, 'f');
  const ledger = new Ledger();
  for (let i = 0; i < 3; i++) await ledger.step(follower, rnd, 'f');
  const inFlight = ledger.step(follower, rnd, 'f');
  await sleep(rnd() * 30);
  // Frozen (the page gets the `freeze` event and hands over) or hung (no event: only the lease
  // tells the follower that the leader makes no progress).
  const hung = rnd() < 0.5;
  if (hung) await rig.hang('a', true);
  else await rig.freeze('a', 'frozen');
  const t0 = Date.now();
  // A write while it is so: it must not wait on the leader, and it gives the follower something
  // pending (a follower takes over a silent leader only then).
  const wrote = await Promise.race([
    ledger.step(follower, rnd, 'f').then(() => true),
    sleep(TAKEOVER_MS).then(() => false),
  ]);
  const led = await untilStatus(
    follower,
    (s) => s?.isLeader === true,
    Math.max(0, TAKEOVER_MS - (Date.now() - t0)),
  );
  const tookOver = led < 0 ? -1 : Date.now() - t0;
  const wake = rnd() < 0.5;
  const checks: Check[] = [
    {
      name: `a follower write went through while the leader was ${hung ? 'hung' : 'frozen'}`,
      ok: wrote,
      ...(wrote ? {} : { detail: `still waiting after ${TAKEOVER_MS} ms` }),
    },
    {
      name: `the follower took the lead within ${TAKEOVER_MS} ms while the leader was ${hung ? 'hung' : 'frozen'}`,
      ok: tookOver >= 0,
      ...(tookOver < 0 ? { detail: 'it did not' } : {}),
    },
  ];
  if (wake) {
    if (hung) await rig.hang('a', false);
    else await rig.freeze('a', 'active');
    const steppedDown = await untilStatus(leader, (s) => s?.isLeader === false, 10_000);
    checks.push({
      name: 'the woken leader stepped down',
      ok: steppedDown >= 0,
      ...(steppedDown < 0 ? { detail: 'still leader 10 s after waking' } : {}),
    });
  } else {
    await Promise.race([leader.close(), sleep(10_000)]);
  }
  await inFlight;
  for (let i = 0; i < 3; i++) await ledger.step(follower, rnd, 'f');
  const replicas = await converge(follower, 60_000);
  return result(
    [...checks, ...(await ledger.checks(rig, 'f')), replicas],
    `leader ${hung ? 'hung' : 'frozen'}, follower led after ${tookOver} ms, old leader ${wake ? 'woken' : 'killed'}; ${ledger.journal.size} cards and ${ledger.incsAcked} incs`,
  );
}

/**
 * IndexedDB gets room for 200–300 KiB more (emulated, see chaos-app.ts) and a tab writes 20 KiB
 * cards until IndexedDB refuses; after up to 2 s the room is restored and it writes on.
 * Refused writes must be refused to the app (and never reach the server), acknowledged ones
 * must all arrive, and sync must resume.
 */
async function quotaExhausted(seed: number, ctx: RunContext): Promise<RunResult> {
  const rnd = mulberry32(seed ^ 0x9007a);
  const rig = await startBrowserRig(ctx);
  const page = await withCounter(rig, `chaos-${seed}`);
  await page.evaluate((b) => window.chaos!.setQuota(b), 200 * 1024 + Math.floor(rnd() * 100 * 1024));
  const ledger = new Ledger();
  let refusedAt = -1;
  for (let i = 0; i < 150 && refusedAt < 0; i++) {
    if ((await ledger.step(page, rnd, 'q', 20 * 1024)) === 'refused') refusedAt = i;
  }
  const errors = ledger.refused.length;
  // Sync goes on while full (the engine's own writes meet the quota too), then space is freed.
  await sleep(rnd() * 2000);
  await page.evaluate(() => window.chaos!.setQuota(null));
  for (let i = 0; i < 3; i++) await ledger.step(page, rnd, 'q', 1024);
  const replicas = await converge(page, 60_000);
  const errorNames = [...ledger.errors].join(',');
  const reached: Check =
    refusedAt >= 0 && errorNames === 'QuotaExceededError'
      ? { name: 'quota reached: writes refused to the app with QuotaExceededError', ok: true }
      : {
          name: 'quota reached: writes refused to the app with QuotaExceededError',
          ok: false,
          detail: refusedAt < 0 ? 'no write refused in 150' : `refused with ${errorNames}`,
        };
  return result(
    [reached, ...(await ledger.checks(rig, 'q')), replicas],
    `refused after ${refusedAt} transactions (${errors} cards refused); ${ledger.journal.size} cards acknowledged`,
  );
}

const browser = (name: string, description: string, run: Scenario['run']): Scenario => ({
  name,
  description,
  needs: ['chromium'],
  quickRuns: 1,
  longWeight: 1,
  timeoutMs: 180_000,
  run,
});

export const pageCloseScenario = browser(
  'page-close-reload',
  'a Chromium tab closed mid-transaction (online or offline), reopened',
  pageClose,
);
export const leaderFrozenScenario: Scenario = {
  ...browser(
    'leader-frozen',
    'the leader tab frozen or hung over raw CDP mid-write; the follower takes over; the old leader woken or killed',
    leaderFrozen,
  ),
  // The frozen leader held its push read or lease check, and the follower's write waited (fixed:
  // those read in transactions that commit at once, the renewal is aborted on freeze).
  regressionSeeds: [13, 19],
};
export const quotaScenario = browser(
  'indexeddb-quota',
  'IndexedDB quota exhausted while writing, then restored',
  quotaExhausted,
);
