/**
 * Peak JS heap of one page while a run goes on, sampled over the Chrome DevTools Protocol
 * (`Performance.getMetrics` → `JSHeapUsedSize`) every 25 ms from Node, after a forced GC sets the
 * baseline. Catches the page's own heap (rows held, parsing, library caches), not IndexedDB's
 * backing store, which lives in the browser process.
 */
import type { BrowserContext, Page } from 'playwright-core';

export interface HeapPeak {
  readonly baselineMB: number;
  readonly peakMB: number;
}

export async function sampleHeap<T>(
  context: BrowserContext,
  page: Page,
  during: () => Promise<T>,
): Promise<{ result: T; heap: HeapPeak }> {
  const cdp = await context.newCDPSession(page);
  const used = async () => {
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
  };
  try {
    await cdp.send('Performance.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    const baseline = await used();
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await used());
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    let result: T;
    try {
      result = await during();
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
    }
    const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    return { result, heap: { baselineMB: mb(baseline), peakMB: mb(peak) } };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
