/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed with its seed (`SYNCLINE_SEED`). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a randomized run: `SYNCLINE_SEED` to replay one, else random (a test prints it, so
 * a failure can be replayed).
 */
export function runSeed(): number {
  const env = process.env['SYNCLINE_SEED'];
  return env !== undefined && env !== '' ? Number(env) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}
