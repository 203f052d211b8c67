import { describe, expect, it } from 'vitest';
import { failureOf, isStorageFailure } from './failure.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isStorageFailure', () => {
  it('recognises a database that is down, restarting or unreachable', () => {
    for (const err of [
      withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      withCode('ECONNRESET'),
      withCode('ETIMEDOUT'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P03', 'the database system is starting up'),
      withCode('08006', 'connection failure'),
      withCode('53300', 'too many connections for role'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('Client has encountered a connection error and is not queryable'),
      new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')]),
      new Error('wrapped', { cause: withCode('57P01') }),
      Object.assign(new Error('disk I/O error'), { name: 'SqliteError', code: 'SQLITE_IOERR' }),
    ]) {
      expect(isStorageFailure(err), err.message).toBe(true);
      expect(failureOf(err)).toMatchObject({ code: 'storage_unavailable', retryable: true });
    }
  });

  it('leaves bugs and bad requests as internal errors', () => {
    for (const err of [
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      withCode('23505', 'duplicate key value violates unique constraint'),
      withCode('42P01', 'relation "records" does not exist'),
      new AggregateError([withCode('ECONNREFUSED'), new Error('other')]),
      'a string',
      null,
    ]) {
      expect(isStorageFailure(err)).toBe(false);
      expect(failureOf(err)).toMatchObject({ code: 'internal', retryable: true });
    }
  });
});
