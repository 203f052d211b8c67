import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newClientId, TestClient } from '@syncline/test-support/server';
import { eventually, spawnServer, type ServerProcess } from '@syncline/test-support';
import { AMQP_URL, dropSchema, NATS_URL, PG_URL, testSchema } from '@syncline/test-support/databases';
import {
  natsConsumer,
  rabbitConsumer,
  testExchange,
  testStream,
  versionsByScope,
  webhookReceiver,
  type Consumer,
} from './helpers/brokers.js';

let dir: string;
const procs: ServerProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-sinks-'));
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) {
      p.proc.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const fn of cleanups.splice(0).reverse()) await fn();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A RabbitMQ and a NATS sink of the test's own and a webhook on `notes` (a sink too), as a
 * `--config` module; the transform and the receiver wait a moment per change so a backlog takes
 * long enough to deliver for a kill to land in the middle.
 */
async function brokers(): Promise<{ config: string; consumers: Consumer[] }> {
  const exchange = testExchange();
  const { stream, subjectPrefix } = testStream();
  const rabbit = await rabbitConsumer(exchange);
  const nats = await natsConsumer(stream, subjectPrefix);
  const hook = await webhookReceiver(2);
  cleanups.push(
    () => rabbit.close(),
    () => nats.close(),
    () => hook.close(),
  );
  const common = { retryMinMs: 50, retryMaxMs: 300, batchSize: 10 };
  const config = join(dir, 'sinks.config.mjs');
  writeFileSync(
    config,
    `const slow = (c) => new Promise((r) => setTimeout(() => r(c), 2));
export default {
  changeFeed: { pollIntervalMs: 100 },
  collections: { notes: { webhook: { url: ${JSON.stringify(hook.url)}, secret: 'whsec', retryDelayMs: 20 } } },
  sinks: [
    { name: 'rabbit', kind: 'rabbitmq', url: ${JSON.stringify(AMQP_URL)}, exchange: ${JSON.stringify(exchange)}, transform: slow, ...${JSON.stringify(common)} },
    { name: 'jet', kind: 'nats', servers: ${JSON.stringify(NATS_URL)}, stream: ${JSON.stringify(stream)}, subjectPrefix: ${JSON.stringify(subjectPrefix)}, transform: slow, ...${JSON.stringify(common)} },
  ],
};
`,
  );
  return { config, consumers: [rabbit, nats, hook] };
}

/** Writes `n` changes over three scopes through one client (pushes of 50). */
async function write(url: string, n: number, from = 0): Promise<void> {
  const client = await TestClient.connect(url, { clientId: newClientId() });
  try {
    for (let start = from; start < from + n; start += 50) {
      const batch = client.mutations(
        ...Array.from({ length: Math.min(50, from + n - start) }, (_, k) => ({
          scope: `team:${(start + k) % 3}`,
          collection: 'notes',
          id: `n${start + k}`,
          op: 'put' as const,
          base: 0,
          value: { i: start + k },
        })),
      );
      const res = await client.push(batch);
      if (!res.ok) throw new Error(JSON.stringify(res));
    }
  } finally {
    client.close();
  }
}

const running = (p: ServerProcess, sink: string) =>
  p.lines.some((l) => l.includes('"sink running"') && l.includes(`"sink":"${sink}"`));
/** The sinks of `brokers()`: RabbitMQ, NATS and the webhook. */
const SINKS = ['rabbit', 'jet', 'webhook:notes'];
const runsAll = (p: ServerProcess) => SINKS.every((sink) => running(p, sink));
const runsAny = (p: ServerProcess) => SINKS.some((sink) => running(p, sink));

/** After dedupe on (scope, version), each of `total` changes once and every scope in order. */
function expectEveryChangeOnce(consumer: Consumer, total: number): void {
  const byScope = versionsByScope(consumer.deduped());
  const counts = [0, 1, 2].map((s) => Math.floor(total / 3) + (s < total % 3 ? 1 : 0));
  expect(byScope).toEqual(
    Object.fromEntries(counts.map((c, s) => [`team:${s}`, Array.from({ length: c }, (_, i) => i + 1)])),
  );
}

describe('broker sinks and webhooks across process deaths', () => {
  it(
    'SIGKILL mid-publish, restart: every change reaches both brokers and the webhook, once after dedupe, in order',
    { timeout: 60_000 },
    async () => {
      const { config, consumers } = await brokers();
      const db = join(dir, 'sync.db');
      const args = ['--port', '0', '--db', db, '--config', config, '--log-level', 'info'];
      const first = await spawnServer(args);
      procs.push(first);
      await write(first.url, 300);
      await eventually(() => consumers.every((c) => c.received.length >= 20), 'publishing under way');
      first.proc.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      // Killed in the middle: neither broker had everything yet.
      expect(consumers.every((c) => c.deduped().length < 300)).toBe(true);

      const second = await spawnServer(args);
      procs.push(second);
      for (const c of consumers)
        await eventually(() => c.deduped().length >= 300, 'the rest published', 20_000);
      for (const c of consumers) expectEveryChangeOnce(c, 300);
    },
  );

  it(
    'a sink from the command line: --sink-rabbitmq publishes every change',
    { timeout: 30_000 },
    async () => {
      const exchange = testExchange();
      const rabbit = await rabbitConsumer(exchange);
      cleanups.push(() => rabbit.close());
      const args = ['--port', '0', '--db', join(dir, 'flags.db'), '--log-level', 'info'];
      const server = await spawnServer([
        ...args,
        '--sink-rabbitmq',
        AMQP_URL,
        '--sink-rabbitmq-exchange',
        exchange,
      ]);
      procs.push(server);
      await write(server.url, 30);
      await eventually(() => rabbit.deduped().length >= 30, 'published through the flag-configured sink');
      expectEveryChangeOnce(rabbit, 30);
      expect(running(server, 'rabbitmq')).toBe(true);
    },
  );

  describe.skipIf(!PG_URL)('on PostgreSQL', () => {
    it(
      'two nodes: one publishes; kill it and the other takes over and goes on',
      { timeout: 60_000 },
      async () => {
        const schema = testSchema();
        cleanups.push(() => dropSchema(PG_URL!, schema));
        const { config, consumers } = await brokers();
        const args = [
          '--port',
          '0',
          '--postgres',
          PG_URL!,
          '--pg-schema',
          schema,
          '--config',
          config,
          '--log-level',
          'info',
        ];
        const a = await spawnServer(args);
        procs.push(a);
        await eventually(() => runsAll(a), 'node A runs every sink');
        const b = await spawnServer(args);
        procs.push(b);
        await write(b.url, 300);
        await eventually(() => consumers.every((c) => c.received.length >= 20), 'node A publishing');
        // One node at a time: B stood by while A held the sinks' locks.
        expect(runsAny(b)).toBe(false);
        a.proc.kill('SIGKILL');
        await a.exited;
        await eventually(() => runsAll(b), 'node B took every sink over', 15_000);
        await write(b.url, 60, 300);
        for (const c of consumers)
          await eventually(() => c.deduped().length >= 360, 'B published the rest', 20_000);
        for (const c of consumers) expectEveryChangeOnce(c, 360);
      },
    );
  });
});
