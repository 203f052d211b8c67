/**
 * The suite's one table, as Markdown (printed to the console and pasted into RESULTS.md): each
 * row with its latency, throughput, ratio against its baseline row and extras.
 */
import type { BenchRow } from './report.js';

const fmt = (x: number | undefined, digits = 2): string =>
  x === undefined
    ? ''
    : x >= 1000 || Number.isInteger(x)
      ? Math.round(x).toLocaleString('en-US')
      : x.toFixed(digits);

/** `p50 1.23× · p99 1.50×` for latency rows, `0.61×` of throughput otherwise. */
export function ratio(row: BenchRow, rows: readonly BenchRow[]): string {
  if (row.baseline === undefined) return '';
  const base = rows.find((r) => r.bench === row.bench && r.name === row.baseline);
  if (!base) return `(no ${row.baseline})`;
  if (row.latencyMs && base.latencyMs && base.latencyMs.p50 > 0 && base.latencyMs.p99 > 0) {
    return `p50 ${(row.latencyMs.p50 / base.latencyMs.p50).toFixed(2)}× · p99 ${(row.latencyMs.p99 / base.latencyMs.p99).toFixed(2)}×`;
  }
  if (row.perSecond !== undefined && base.perSecond)
    return `${(row.perSecond / base.perSecond).toFixed(2)}× tput`;
  return '';
}

function extras(row: BenchRow): string {
  return Object.entries(row.extra ?? {})
    .map(([k, v]) => `${k} ${typeof v === 'number' ? fmt(v) : v}`)
    .join(' · ');
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const header = ['bench', 'name', 'kind', 'p50 ms', 'p99 ms', 'per s', 'vs baseline', 'extra'];
  const body = rows.map((r) => [
    r.bench,
    r.name,
    r.kind,
    fmt(r.latencyMs?.p50),
    fmt(r.latencyMs?.p99),
    r.perSecond === undefined ? '' : fmt(r.perSecond, 0),
    ratio(r, rows),
    extras(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i >= 3 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i >= 3 && i <= 5 ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(header), rule, ...body.map(line)].join('\n');
}
