import { describe, expect, it } from 'vitest';
import { assertDevAuthAddress, isLoopbackHost } from './dev-auth-exposure.js';

describe('isLoopbackHost', () => {
  it('knows loopback addresses and names', () => {
    for (const h of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      'localhost',
      'LOCALHOST',
      'app.localhost',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
  });

  it('treats every other address and name as reachable from the network', () => {
    for (const h of [
      '0.0.0.0',
      '::',
      '',
      '10.0.0.5',
      '192.168.1.2',
      '::ffff:10.0.0.1',
      'example.com',
      '128.0.0.1',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});

describe('assertDevAuthAddress', () => {
  it('throws invalid_config for development auth off loopback, unless allowed or with hooks', () => {
    expect(() => assertDevAuthAddress({ auth: 'development' }, '0.0.0.0')).toThrow(/invalid_config: auth:/);
    expect(() => assertDevAuthAddress({ auth: 'development' }, '127.0.0.1')).not.toThrow();
    expect(() =>
      assertDevAuthAddress({ auth: 'development', allowInsecureDevAuth: true }, '0.0.0.0'),
    ).not.toThrow();
    expect(() => assertDevAuthAddress({ auth: {} }, '0.0.0.0')).not.toThrow();
  });
});
