/**
 * Standard base64 (RFC 4648 §4, `+/`, `=` padding), without Node's `Buffer` or the browser's
 * `btoa`: the protocol runs in both, and `btoa` needs a binary string first.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0));
const PAD = 61; // '='
// A web platform global (every browser, Node ≥ 11) that the ES lib does not declare; this package
// compiles without the DOM lib and Node's types, so it declares the one member it uses.
declare const TextDecoder: new () => { decode(input: Uint8Array): string };
const ASCII = new TextDecoder();

/** Base64 of the bytes, padded. */
export function bytesToBase64(bytes: Uint8Array): string {
  // ASCII codes into one buffer, decoded to a string at once: much faster than appending
  // characters one by one. (`TextDecoder` is in every browser and Node.)
  const n = bytes.length;
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[o++] = CODES[v >> 18]!;
    out[o++] = CODES[(v >> 12) & 63]!;
    out[o++] = CODES[(v >> 6) & 63]!;
    out[o++] = CODES[v & 63]!;
  }
  if (i < n) {
    const v = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    out[o++] = CODES[v >> 18]!;
    out[o++] = CODES[(v >> 12) & 63]!;
    out[o++] = i + 1 < n ? CODES[(v >> 6) & 63]! : PAD;
    out[o++] = PAD;
  }
  return ASCII.decode(out);
}

/**
 * True when `s` is the one base64 text `bytesToBase64` produces for some bytes: only the
 * alphabet, padded to a multiple of 4, and no stray bits in the last character. Canonical texts
 * only, so one byte string has exactly one encoding (scope hashes depend on it).
 */
export function isCanonicalBase64(s: string): boolean {
  if (s.length % 4 !== 0) return false;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const body = s.length - pad;
  for (let i = 0; i < body; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || INDEX[c]! < 0) return false;
  }
  if (pad === 0) return true;
  // The last data character carries 4 (one byte) or 2 (two bytes) unused low bits: all zero.
  const last = INDEX[s.charCodeAt(body - 1)]!;
  return pad === 2 ? (last & 15) === 0 : (last & 3) === 0;
}

/** The bytes of a canonical base64 text (check it with `isCanonicalBase64` first). */
export function base64ToBytes(s: string): Uint8Array<ArrayBuffer> {
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  // Padding reads as 0: the bits it stands for are never written out.
  const at = (i: number) => Math.max(0, INDEX[s.charCodeAt(i)] ?? 0);
  for (let i = 0; i < s.length; i += 4) {
    const v = (at(i) << 18) | (at(i + 1) << 12) | (at(i + 2) << 6) | at(i + 3);
    out[o++] = v >> 16;
    if (o < out.length) out[o++] = (v >> 8) & 255;
    if (o < out.length) out[o++] = v & 255;
  }
  return out;
}
