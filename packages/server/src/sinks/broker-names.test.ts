import { describe, expect, it } from 'vitest';
import { decodeToken, encodeToken, messageId, natsSubject, routingKey } from './broker-names.js';

describe('broker names', () => {
  it('escapes separators and wildcards so every key decodes to one scope and collection', () => {
    expect(encodeToken('team:acme/x@y_z-1')).toBe('team:acme/x@y_z-1');
    expect(encodeToken('a.b*c#d>e%f g')).toBe('a%2Eb%2Ac%23d%3Ee%25f%20g');
    expect(encodeToken('é')).toBe('%C3%A9');
    for (const name of ['a.b', 'a%2Eb', 'x*#>', 'é.ü']) expect(decodeToken(encodeToken(name))).toBe(name);
    // Two different (scope, collection) pairs never share a key.
    expect(routingKey('a.b', 'c')).not.toBe(routingKey('a', 'b.c'));
    expect(routingKey('a.b', 'c')).toBe('a%2Eb.c');
    expect(natsSubject('sync.changes', 'team.1', 'todos')).toBe('sync.changes.team%2E1.todos');
    expect(messageId('team:1', 7)).toBe('team:1:7');
  });

  it("keeps routing keys within AMQP's 255 bytes", () => {
    const scope = '.'.repeat(128);
    const key = routingKey(scope, 'todos');
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(255);
    expect(key).toMatch(/^%H[0-9a-f]{64}\.todos$/);
    expect(routingKey(scope, 'todos')).toBe(key);
    expect(routingKey(`${scope.slice(1)}x`, 'todos')).not.toBe(key);
  });
});
