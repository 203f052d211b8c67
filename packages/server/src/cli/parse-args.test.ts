import { describe, expect, it } from 'vitest';
import { parseCliArgs, redact } from './parse-args.js';

describe('parseCliArgs', () => {
  it('reads flags over the environment over defaults', () => {
    expect(parseCliArgs([], {})).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      db: './syncline.db',
      logLevel: 'info',
    });
    expect(parseCliArgs(['--port', '9'], { SYNCLINE_PORT: '7', SYNCLINE_DB: 'x.db' })).toMatchObject({
      port: 9,
      db: 'x.db',
    });
  });

  it('adds a RabbitMQ and a NATS sink from their flags or variables, with default names and targets', () => {
    expect(parseCliArgs([], {}).sinks).toEqual([]);
    expect(
      parseCliArgs(['--sink-rabbitmq', 'amqp://h:5672', '--sink-rabbitmq-exchange', 'ex'], {
        SYNCLINE_SINK_NATS: 'nats://n:4222',
      }).sinks,
    ).toEqual([
      { name: 'rabbitmq', kind: 'rabbitmq', url: 'amqp://h:5672', exchange: 'ex' },
      {
        name: 'nats',
        kind: 'nats',
        servers: 'nats://n:4222',
        stream: 'SYNCLINE',
        subjectPrefix: 'syncline.changes',
      },
    ]);
    expect(parseCliArgs([], { SYNCLINE_SINK_RABBITMQ: 'amqp://h' }).sinks).toEqual([
      { name: 'rabbitmq', kind: 'rabbitmq', url: 'amqp://h', exchange: 'syncline.changes' },
    ]);
    expect(() => parseCliArgs(['--sink-nats-stream', 'S'], {})).toThrow(
      '--sink-nats-stream needs --sink-nats <url>',
    );
    expect(() => parseCliArgs(['--sink-rabbitmq-exchange', 'x'], {})).toThrow(
      '--sink-rabbitmq-exchange needs --sink-rabbitmq <url>',
    );
  });

  it("accepts an embedder's extra boolean flags and still refuses unknown ones", () => {
    expect(parseCliArgs(['--dev'], {}, ['dev']).flags).toEqual({ dev: true });
    expect(parseCliArgs([], {}, ['dev']).flags).toEqual({ dev: false });
    expect(() => parseCliArgs(['--dev'], {})).toThrow(/dev/);
    expect(() => parseCliArgs(['--log-level', 'loud'], {})).toThrow('invalid --log-level "loud"');
  });

  it('selects PostgreSQL from --postgres or SYNCLINE_PG_URL, and fan-out through Redis only with it', () => {
    const url = 'postgres://u:secret@db:5432/app';
    expect(parseCliArgs(['--postgres', url, '--pg-pool-size', '4'], {})).toMatchObject({
      postgres: { url, poolSize: 4, schema: 'syncline' },
      redis: undefined,
    });
    expect(parseCliArgs([], { SYNCLINE_PG_URL: url, SYNCLINE_PG_SCHEMA: 's2' })).toMatchObject({
      postgres: { url, poolSize: 10, schema: 's2' },
    });
    expect(parseCliArgs(['--postgres', url], { SYNCLINE_REDIS_URL: 'redis://r:6379' }).redis).toBe(
      'redis://r:6379',
    );
    expect(parseCliArgs(['--postgres', url, '--redis', 'redis://q:1'], {}).redis).toBe('redis://q:1');
  });

  it('keeps SQLite when --db is given or the variables are empty, whatever else the environment says', () => {
    const env = { SYNCLINE_PG_URL: 'postgres://db/test', SYNCLINE_REDIS_URL: 'redis://r:6379' };
    expect(parseCliArgs(['--db', 'x.db'], env)).toMatchObject({
      db: 'x.db',
      postgres: undefined,
      redis: undefined,
    });
    expect(parseCliArgs([], { SYNCLINE_PG_URL: '', SYNCLINE_REDIS_URL: '' })).toMatchObject({
      postgres: undefined,
      redis: undefined,
    });
  });

  it('refuses contradictory or malformed storage settings', () => {
    const url = 'postgres://db/test';
    expect(() => parseCliArgs(['--db', 'x.db', '--postgres', url], {})).toThrow('choose one');
    expect(() => parseCliArgs([], { SYNCLINE_DB: 'x.db', SYNCLINE_PG_URL: url })).toThrow('both set');
    expect(() => parseCliArgs(['--redis', 'redis://r:6379'], {})).toThrow('--redis needs --postgres');
    expect(() => parseCliArgs(['--pg-pool-size', '3'], {})).toThrow('need --postgres');
    expect(() => parseCliArgs(['--postgres', 'mysql://x'], {})).toThrow('invalid --postgres');
    expect(() => parseCliArgs(['--postgres', url, '--pg-pool-size', '0'], {})).toThrow(
      'invalid --pg-pool-size',
    );
    expect(() => parseCliArgs(['--postgres', url, '--pg-schema', 'a;drop'], {})).toThrow(
      'invalid --pg-schema',
    );
    expect(() => parseCliArgs(['--postgres', url, '--redis', 'http://r'], {})).toThrow('invalid --redis');
  });

  it('never prints a password', () => {
    expect(() => parseCliArgs(['--postgres', 'pg://u:hunter2@h/db'], {})).toThrow(/^(?!.*hunter2)/);
    expect(redact('postgres://u:hunter2@h:5432/db')).toBe('postgres://u:***@h:5432/db');
  });
});
