import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEnded } from '@syncline/protocol';
import { PG_URL, REDIS_URL } from '@syncline/test-support/databases';
import { TestClient } from '@syncline/test-support/server';
import { inProcessCluster } from '../helpers/in-process-cluster.js';

// `revoke` on one node ends the user's sockets on every node, through the cluster adapter.

const sockets: { close(): void }[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

function revokeSuite(kind: 'postgres' | 'redis'): void {
  const env = inProcessCluster(kind === 'postgres' ? { kind } : { kind, url: () => REDIS_URL! });

  it('closes the user’s sockets on the other node too, and nobody else’s', async () => {
    // Development auth: the principal id is the token.
    const connect = async (node: number, user: string) => {
      const c = await TestClient.connect(env.node(node).url, { token: user });
      sockets.push(c.socket);
      const ended: SessionEnded[] = [];
      c.socket.on('session_ended', (e) => ended.push(e));
      const gone = new Promise<string>((r) => c.socket.once('disconnect', r));
      return { c, ended, gone };
    };
    const here = await connect(0, `mallory-${kind}`);
    const there = await connect(1, `mallory-${kind}`);
    const other = await connect(1, `trent-${kind}`);

    expect(env.node(0).server.revoke({ userId: `mallory-${kind}` })).toEqual({ localSockets: 1 });
    expect(await here.gone).toBe('io server disconnect');
    expect(await there.gone).toBe('io server disconnect');
    expect(here.ended.map((e) => e.code)).toEqual(['access_revoked']);
    expect(there.ended.map((e) => e.code)).toEqual(['access_revoked']);
    expect(other.c.socket.connected).toBe(true);
    expect((await other.c.pull('board:x')).ok).toBe(true);
  });
}

describe.skipIf(!PG_URL)('revoke across nodes (PostgreSQL fan-out)', () => revokeSuite('postgres'));
describe.skipIf(!PG_URL || !REDIS_URL)('revoke across nodes (Redis fan-out)', () => revokeSuite('redis'));
