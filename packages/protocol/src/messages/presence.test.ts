import { describe, expect, it } from 'vitest';
import { CLIENT_EVENTS } from '../events.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { validateMessage } from '../validate.js';
import { PresenceLeaveRequestSchema } from './presence-leave.js';
import { PresenceSetRequestSchema } from './presence-set.js';
import { PresenceMessageSchema } from './presence-update.js';
import { PresenceWatchRequestSchema } from './presence-watch.js';

describe('presence messages', () => {
  it('are client events', () => {
    expect(CLIENT_EVENTS).toEqual(
      expect.arrayContaining(['presence_set', 'presence_leave', 'presence_watch']),
    );
  });

  it('accept a set, a leave and a watch, and refuse extra or missing fields', () => {
    const ok = (schema: Parameters<typeof validateMessage>[0], v: unknown) =>
      validateMessage(schema, v, DEFAULT_LIMITS).ok;
    expect(ok(PresenceSetRequestSchema, { scope: 'team:a', tab: 't1', state: { viewing: 'c1' } })).toBe(true);
    expect(ok(PresenceSetRequestSchema, { scope: 'team:a', tab: 't1', state: null })).toBe(true);
    expect(ok(PresenceSetRequestSchema, { scope: 'team:a', tab: 't1', state: 1, user: 'x' })).toBe(false);
    expect(ok(PresenceSetRequestSchema, { scope: 'team:a', tab: 'x'.repeat(65), state: 1 })).toBe(false);
    expect(ok(PresenceLeaveRequestSchema, { scope: 'team:a', tab: 't1' })).toBe(true);
    expect(ok(PresenceLeaveRequestSchema, { scope: 'team:a' })).toBe(false);
    expect(ok(PresenceWatchRequestSchema, { scope: 'team:a', watch: true })).toBe(true);
    expect(ok(PresenceWatchRequestSchema, { scope: 'team:a', watch: 'yes' })).toBe(false);
  });

  it('a presence message carries a positive integer ttl and keys with a valid client id', () => {
    const entry = { user: 'u', client: 'client-1234', tab: 't', state: 1 };
    const msg = { scope: 'team:a', ttlMs: 5000, entries: [entry], left: [] };
    expect(PresenceMessageSchema.safeParse(msg).success).toBe(true);
    expect(PresenceMessageSchema.safeParse({ ...msg, ttlMs: 0 }).success).toBe(false);
    expect(PresenceMessageSchema.safeParse({ ...msg, entries: [{ ...entry, client: 'x' }] }).success).toBe(
      false,
    );
  });
});
