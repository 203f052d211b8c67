import { afterEach, describe, expect, it } from 'vitest';
import { pageConverged, startBrowserRig } from './rig.js';

// A tab frozen (or suspended by the OS) while one of its reads is open keeps that transaction's
// locks until it wakes, and every other tab's writes to those stores wait: Chromium aborts such a
// transaction only after about 60 s. Every write re-runs every tab's live views of the outbox,
// so a tab frozen during a burst of writes almost always held one. Syncline's own live reads now
// commit at once (`store/live-read.ts`): a frozen follower must not hold up the leader's writes.
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});
const ctx = {
  pgUrl: undefined,
  redisUrl: undefined,
  defer: (f: () => unknown) => cleanups.push(f),
  log: () => {},
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a tab frozen while its live views read', () => {
  it("does not block another tab's writes", { timeout: 90_000 }, async () => {
    const rig = await startBrowserRig(ctx);
    const writer = await rig.open('frozen-follower', 'w');
    const frozen = await rig.open('frozen-follower', 'f');
    expect((await frozen.evaluate(() => window.chaos!.status()))?.isLeader).toBe(false);
    let n = 0;
    const write = () =>
      writer.evaluate(
        (i: number) => window.chaos!.putMany([{ id: `w${i}`, board: '1', title: `w${i}` }]),
        n++,
      );
    // A burst keeps the follower's status view re-reading the outbox; freeze it in the middle.
    const burst = Array.from({ length: 20 }, () => write());
    await sleep(15);
    await rig.freeze('f', 'frozen');
    expect(await Promise.all(burst)).toEqual(Array.from({ length: 20 }, () => ({ ok: true })));
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      expect(await Promise.race([write(), sleep(5_000).then(() => 'blocked')])).toEqual({ ok: true });
      expect(Date.now() - t0).toBeLessThan(5_000);
    }
    // And the writer (the leader) syncs them while the follower stays frozen.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const s = await writer.evaluate(() => window.chaos!.status());
      if (s?.phase === 'live' && s.pending === 0) break;
      if (Date.now() > deadline) throw new Error(`writer did not sync: ${JSON.stringify(s)}`);
      await sleep(100);
    }
    await rig.freeze('f', 'active');
  });

  it(
    'a leader frozen mid-burst blocks nothing: the follower writes on, leads and syncs',
    { timeout: 90_000 },
    async () => {
      const rig = await startBrowserRig(ctx);
      const leader = await rig.open('frozen-leader', 'a');
      const follower = await rig.open('frozen-leader', 'f');
      expect((await leader.evaluate(() => window.chaos!.status()))?.isLeader).toBe(true);
      let n = 0;
      const write = () =>
        follower.evaluate(
          (i: number) => window.chaos!.putMany([{ id: `f${i}`, board: '1', title: `f${i}` }]),
          n++,
        );
      // The leader pushes and settles the follower's writes as they come: freeze it in the middle.
      const burst = Array.from({ length: 20 }, () => write());
      await sleep(25);
      await rig.freeze('a', 'frozen');
      expect(await Promise.all(burst)).toEqual(Array.from({ length: 20 }, () => ({ ok: true })));
      for (let i = 0; i < 10; i++) {
        expect(await Promise.race([write(), sleep(5_000).then(() => 'blocked')])).toEqual({ ok: true });
      }
      const deadline = Date.now() + 20_000;
      for (;;) {
        const s = await follower.evaluate(() => window.chaos!.status());
        if (s?.isLeader === true && s.phase === 'live' && s.pending === 0) break;
        if (Date.now() > deadline)
          throw new Error(`the follower did not take over and sync: ${JSON.stringify(s)}`);
        await sleep(100);
      }
      // Every one of the follower's 30 writes is on the server, each once.
      const rows = await rig.db.query<{ id: string; n: number }>(
        `SELECT id, COUNT(*) AS n FROM ${rig.db.table('history')} WHERE id LIKE 'f%' GROUP BY id`,
      );
      expect(rows).toHaveLength(30);
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
      await rig.freeze('a', 'active');
    },
  );

  it(
    'a hung leader (no freeze event) is taken over within 10 s; the follower never waits',
    { timeout: 90_000 },
    async () => {
      const rig = await startBrowserRig(ctx);
      const leader = await rig.open('hung-leader', 'a');
      const follower = await rig.open('hung-leader', 'f');
      expect((await leader.evaluate(() => window.chaos!.status()))?.isLeader).toBe(true);
      let n = 0;
      const write = () =>
        follower.evaluate(
          (i: number) => window.chaos!.putMany([{ id: `h${i}`, board: '1', title: `h${i}` }]),
          n++,
        );
      const burst = Array.from({ length: 5 }, () => write());
      await rig.hang('a', true);
      const t0 = Date.now();
      expect(await Promise.race([Promise.all(burst), sleep(5_000).then(() => 'blocked')])).toHaveLength(5);
      expect(await Promise.race([write(), sleep(5_000).then(() => 'blocked')])).toEqual({ ok: true });
      // Only the lease can tell: it goes stale after 6 s, and a follower looks every 2 s.
      for (;;) {
        const s = await follower.evaluate(() => window.chaos!.status());
        if (s?.isLeader === true && s.phase === 'live' && s.pending === 0) break;
        if (Date.now() - t0 > 10_000) throw new Error(`no take-over within 10 s: ${JSON.stringify(s)}`);
        await sleep(100);
      }
      await rig.hang('a', false);
      // Woken, the old leader finds its lease epoch stale and steps down.
      const deadline = Date.now() + 10_000;
      while ((await leader.evaluate(() => window.chaos!.status()))?.isLeader !== false) {
        if (Date.now() > deadline) throw new Error('the woken leader did not step down');
        await sleep(100);
      }
    },
  );

  it(
    'a leader paused right after committing a live apply holds nothing: the follower writes, leads and syncs',
    { timeout: 90_000 },
    async () => {
      const rig = await startBrowserRig(ctx);
      const leader = await rig.open('paused-apply', 'a');
      const follower = await rig.open('paused-apply', 'f');
      const other = await rig.open('paused-apply-other', 'o'); // another device
      expect((await leader.evaluate(() => window.chaos!.status()))?.isLeader).toBe(true);
      // The other device's burst reaches the leader as live changes; it pauses inside the first
      // apply, right after asking IndexedDB to commit it (its cursor write placed), in the same task.
      await leader.send('Debugger.enable');
      await leader.evaluate(() => window.chaos!.pauseAfterApply());
      const paused = leader.nextPause();
      const burst = Array.from({ length: 20 }, (_, i) =>
        other.evaluate(
          (j: number) => window.chaos!.putMany([{ id: `o${j}`, board: '1', title: `o${j}` }]),
          i,
        ),
      );
      const none = sleep(20_000).then(() => 'no apply');
      expect(await Promise.race([paused.then(() => 'paused'), none])).toBe('paused');
      await Promise.all(burst);
      const t0 = Date.now();
      for (let i = 0; i < 5; i++) {
        const write = follower.evaluate(
          (j: number) => window.chaos!.putMany([{ id: `p${j}`, board: '1', title: `p${j}` }]),
          i,
        );
        expect(await Promise.race([write, sleep(5_000).then(() => 'blocked')])).toEqual({ ok: true });
      }
      for (;;) {
        const s = await follower.evaluate(() => window.chaos!.status());
        if (s?.isLeader === true && s.phase === 'live' && s.pending === 0) break;
        if (Date.now() - t0 > 10_000) throw new Error(`no take-over within 10 s: ${JSON.stringify(s)}`);
        await sleep(100);
      }
      // The follower's copy has the whole burst: what the paused apply wrote, and what it pulled.
      await pageConverged(follower, 'board:1', 20_000);
      await leader.send('Debugger.resume');
    },
  );
});
