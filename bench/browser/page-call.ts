/**
 * Calls a page's bench API (`globalThis.__bench`, set by `exposeBench`) from Node, with a hard
 * timeout: `page.evaluate` itself never times out. `Api` is the page's interface from
 * `page-api.ts`, so the call is typed end to end.
 */
import type { Page } from 'playwright-core';
import { withTimeout } from './deadline.js';

type Method<Api> = { [K in keyof Api]: Api[K] extends (...args: never[]) => unknown ? K : never }[keyof Api];
type Args<F> = F extends (...args: infer A) => unknown ? A : never;
type Result<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

export async function callPage<Api, K extends Method<Api> & string>(
  page: Page,
  timeoutMs: number,
  method: K,
  ...args: Args<Api[K]>
): Promise<Result<Api[K]>> {
  const result = page.evaluate(
    ([name, params]) => {
      const api = (globalThis as unknown as { __bench?: Record<string, (...a: unknown[]) => unknown> })
        .__bench;
      const fn = api?.[name];
      if (fn === undefined) throw new Error(`the page has no bench method ${name}`);
      return fn(...params);
    },
    [method, args as unknown[]] as const,
  );
  return withTimeout(result as Promise<Result<Api[K]>>, timeoutMs, `page call ${method}`);
}
