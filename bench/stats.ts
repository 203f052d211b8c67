export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** Percentiles of a sample after dropping the first `warmupFraction` as warm-up. */
export function summarize(samples: readonly number[], warmupFraction = 0): Summary {
  const kept = samples.slice(Math.floor(samples.length * warmupFraction)).sort((a, b) => a - b);
  const at = (q: number) => round(kept[Math.min(kept.length - 1, Math.floor(q * kept.length))] ?? 0);
  return {
    n: kept.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: round(kept[kept.length - 1] ?? 0),
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
