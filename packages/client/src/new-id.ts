/** Crockford's base32: no I, L, O, U; sorts in the same order as the values it encodes. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10;
const RANDOM_BYTES = 10;

export interface IdGeneratorOptions {
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly now?: () => number;
  /** Fills `bytes` with random values (default `crypto.getRandomValues`). */
  readonly fillRandom?: (bytes: Uint8Array) => void;
}

function defaultFill(bytes: Uint8Array): void {
  const crypto = (globalThis as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (!crypto) throw new Error('newId needs crypto.getRandomValues; pass fillRandom to createIdGenerator');
  crypto.getRandomValues(bytes);
}

function encodeTime(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < TIME_CHARS; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

/** 80 bits as 16 base32 characters (5 bytes → 8 characters, twice). */
function encodeRandom(bytes: Uint8Array): string {
  let out = '';
  for (let half = 0; half < 2; half++) {
    let v = 0n;
    for (let i = 0; i < 5; i++) v = (v << 8n) | BigInt(bytes[half * 5 + i]!);
    for (let i = 7; i >= 0; i--) out += ALPHABET[Number((v >> BigInt(i * 5)) & 31n)]!;
  }
  return out;
}

/** Adds one to an 80-bit big-endian counter; false when it wraps. */
function increment(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 255) {
      bytes[i]!++;
      return true;
    }
    bytes[i] = 0;
  }
  return false;
}

/**
 * A generator of ULID-style ids (26 characters: 48-bit millisecond time, then 80 random bits, in
 * Crockford base32). Ids sort by creation time as strings, so a table keyed by them lists records
 * in creation order; within one millisecond (or if the clock steps back) the generator adds one
 * to the previous id's random part, so its ids strictly increase.
 */
export function createIdGenerator(opts: IdGeneratorOptions = {}): () => string {
  const now = opts.now ?? Date.now;
  const fill = opts.fillRandom ?? defaultFill;
  let lastTime = -1;
  const random = new Uint8Array(RANDOM_BYTES);
  return () => {
    const t = Math.max(0, Math.min(Math.floor(now()), 2 ** 48 - 1));
    if (t > lastTime || !increment(random)) {
      fill(random);
      lastTime = Math.max(t, lastTime + (t > lastTime ? 0 : 1));
    }
    return encodeTime(lastTime) + encodeRandom(random);
  };
}

/**
 * A new unique, time-ordered record id (ULID-style, e.g. `01J0ZQ3V9KX8M2D5T7W4C6B1NA`): the key
 * to use for synced tables instead of an auto-increment `++id`. See `createIdGenerator`.
 */
export const newId: () => string = createIdGenerator();
