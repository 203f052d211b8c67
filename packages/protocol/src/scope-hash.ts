import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalJson } from './canonical-json.js';
import type { JsonObject } from './json.js';

const MOD = 1n << 256n;

/**
 * Content hash of a scope's live records, computed the same way by server and client to
 * prove convergence. Each record contributes sha256(canonicalJson([collection, id, value]));
 * the scope hash is the sum of those digests modulo 2^256. Summing makes the hash independent
 * of iteration order and lets either side maintain it incrementally (add and subtract).
 * Tombstones and versions are not part of it: two replicas converge when their content does.
 */
export class ScopeHasher {
  #sum = 0n;
  #count = 0;

  add(collection: string, id: string, value: JsonObject): void {
    this.#sum = (this.#sum + recordDigest(collection, id, value)) % MOD;
    this.#count++;
  }

  remove(collection: string, id: string, value: JsonObject): void {
    this.#sum = (this.#sum - recordDigest(collection, id, value) + MOD) % MOD;
    this.#count--;
  }

  get count(): number {
    return this.#count;
  }

  /** 64 lowercase hex characters. */
  digest(): string {
    return scopeHashHex(this.#sum);
  }
}

/**
 * One live record's term of the scope hash, for code that keeps the sum itself (the server's
 * per-scope cache keeps each record's term, so a change costs one subtraction and one addition).
 */
export function scopeRecordDigest(collection: string, id: string, value: JsonObject): bigint {
  return recordDigest(collection, id, value);
}

/** Adds (or, with `sign` -1, subtracts) a record's term to a scope hash sum, modulo 2^256. */
export function addToScopeSum(sum: bigint, digest: bigint, sign: 1 | -1 = 1): bigint {
  return (((sum + BigInt(sign) * digest) % MOD) + MOD) % MOD;
}

/** A scope hash sum as the protocol writes it: 64 lowercase hex characters. */
export function scopeHashHex(sum: bigint): string {
  return sum.toString(16).padStart(64, '0');
}

function recordDigest(collection: string, id: string, value: JsonObject): bigint {
  const bytes = sha256(utf8ToBytes(canonicalJson([collection, id, value])));
  return BigInt(`0x${bytesToHex(bytes)}`);
}

/** The scope hash of a set of live records. */
export function scopeHash(records: Iterable<{ collection: string; id: string; value: JsonObject }>): {
  hash: string;
  count: number;
} {
  const h = new ScopeHasher();
  for (const r of records) h.add(r.collection, r.id, r.value);
  return { hash: h.digest(), count: h.count };
}
