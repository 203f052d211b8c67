import { afterEach, describe, expect, it } from 'vitest';
import { asMid } from '@syncline/protocol';
import { startServer, TestClient, type RunningServer } from '@syncline/test-support/server';

let running: RunningServer;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
});

async function connect() {
  const c = await TestClient.connect(running.url);
  clients.push(c);
  return c;
}

const put = (scope: string, id: string, n: number) =>
  ({ scope, collection: 'cards', id, op: 'put', base: 0, value: { n } }) as const;

describe('live fan-out', () => {
  it("delivers each commit to the scope's subscribers only, with writer id and mid", async () => {
    running = await startServer();
    const writer = await connect();
    const subA = await connect();
    const subB = await connect();
    await subA.subscribe('team:a');
    await subB.subscribe('team:b');

    await writer.write(put('team:a', 'x', 1));
    const got = await subA.waitForChange((m) => m.scope === 'team:a');
    expect(got).toEqual({
      scope: 'team:a',
      after: 0,
      changes: [
        { collection: 'cards', id: 'x', version: 1, value: { n: 1 }, clientId: writer.clientId, mid: 1 },
      ],
    });
    // A write to team:b reaches subB; by then subB has provably not received team:a's change.
    await writer.write(put('team:b', 'y', 2));
    await subB.waitForChange((m) => m.scope === 'team:b');
    expect(subB.changes.map((m) => m.scope)).toEqual(['team:b']);
    expect(subA.changes.map((m) => m.scope)).toEqual(['team:a']);
  });

  it('sends one message per scope for a push spanning scopes, each continuing its own sequence', async () => {
    running = await startServer();
    const writer = await connect();
    const sub = await connect();
    await sub.subscribe('team:a', 'team:b');
    await writer.write(put('team:a', 'p', 0));
    await writer.write(put('team:a', 'x1', 1), put('team:b', 'y1', 2), put('team:a', 'x2', 3));
    await sub.waitForChange((m) => m.scope === 'team:b');
    await sub.waitForChange((m) => m.scope === 'team:a' && m.after === 1);
    const a = sub.changes.filter((m) => m.scope === 'team:a');
    expect(a.map((m) => [m.after, m.changes.map((c) => c.version)])).toEqual([
      [0, [1]],
      [1, [2, 3]],
    ]);
    const b = sub.changes.filter((m) => m.scope === 'team:b');
    expect(b.map((m) => [m.after, m.changes.map((c) => c.version)])).toEqual([[0, [1]]]);
  });

  it('does not send a push back to the socket that pushed it: its response names the versions instead', async () => {
    running = await startServer();
    const writer = await connect();
    const other = await connect();
    // The writer is subscribed too: it still hears other sockets' commits, never its own.
    await writer.subscribe('team:a', 'team:b');
    await other.subscribe('team:a', 'team:b');
    await other.write(put('team:a', 'o1', 0));
    await writer.waitForChange((m) => m.changes.some((c) => c.id === 'o1'));

    const res = await writer.push(
      writer.mutations(put('team:a', 'x1', 1), put('team:b', 'y1', 2), put('team:a', 'x2', 3)),
    );
    expect(res.ok && res.committed).toEqual([
      { scope: 'team:a', after: 1, count: 2 },
      { scope: 'team:b', after: 0, count: 1 },
    ]);
    // A rejected or duplicate mutation commits nothing: no range for it.
    const again = await writer.push(
      writer.mutations(put('team:a', 'x1', 1)).map((m) => ({ ...m, mid: asMid(1) })),
    );
    expect(again.ok && again.committed).toEqual([]);

    await other.waitForChange((m) => m.scope === 'team:b');
    await other.waitForChange((m) => m.scope === 'team:a' && m.after === 1);
    // Another commit after the writer's: once it arrives, the writer's own broadcasts would have too.
    await other.write(put('team:a', 'o2', 4));
    await writer.waitForChange((m) => m.changes.some((c) => c.id === 'o2'));
    expect(writer.changes.map((m) => [m.scope, m.after, m.changes.map((c) => c.id)])).toEqual([
      ['team:a', 0, ['o1']],
      ['team:a', 3, ['o2']],
    ]);
  });

  it('lets a receiver detect a missed broadcast by `after` and recover it with a pull', async () => {
    running = await startServer();
    const writer = await connect();
    const late = await connect();
    await writer.write(put('team:a', 'x', 1), put('team:a', 'y', 2));
    await late.subscribe('team:a');
    await writer.write(put('team:a', 'z', 3));
    const msg = await late.waitForChange(() => true);
    // The receiver's cursor is 0 but the message continues from 2: it knows it missed 1..2.
    expect(msg.after).toBe(2);
    const pulled = await late.pull('team:a', 0);
    expect(pulled.ok && pulled.changes.map((c) => c.id)).toEqual(['x', 'y', 'z']);
  });

  it('stops delivering after unsubscribe', async () => {
    running = await startServer();
    const writer = await connect();
    const sub = await connect();
    await sub.subscribe('team:a', 'team:b');
    const unsub = await sub.raw('unsubscribe', { scopes: ['team:a'] });
    expect(unsub).toEqual({ ok: true });
    await writer.write(put('team:a', 'x', 1));
    await writer.write(put('team:b', 'y', 2));
    await sub.waitForChange((m) => m.scope === 'team:b');
    expect(sub.changes.map((m) => m.scope)).toEqual(['team:b']);
  });

  it('answers subscribe with each scope head', async () => {
    running = await startServer();
    const writer = await connect();
    await writer.write(put('team:a', 'x', 1), put('team:a', 'y', 2));
    const res = await writer.subscribe('team:a', 'team:empty');
    expect(res).toEqual({
      ok: true,
      scopes: [
        { scope: 'team:a', ok: true, head: 2 },
        { scope: 'team:empty', ok: true, head: 0 },
      ],
    });
  });
});
