import type { FeedChange, FeedLine, SyncError } from '@syncline/protocol';

/** One Prometheus sample: `name{labels} value`. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A parsed scrape: samples, and the declared type of every metric family. */
export interface Scrape {
  readonly samples: readonly Sample[];
  readonly types: ReadonlyMap<string, string>;
  /** Sum of the samples named `name` whose labels include `labels`. */
  value(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Whether any sample is named `name` (with these labels). */
  has(name: string, labels?: Readonly<Record<string, string>>): boolean;
  /** Every name a query may use: each family, plus `_bucket`/`_sum`/`_count` of histograms. */
  names(): Set<string>;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (as much of it as prom-client writes). */
export function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  const matches = (s: Sample, name: string, labels: Readonly<Record<string, string>>) =>
    s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    types,
    value: (name, labels = {}) =>
      samples.filter((s) => matches(s, name, labels)).reduce((sum, s) => sum + s.value, 0),
    has: (name, labels = {}) => samples.some((s) => matches(s, name, labels)),
    names: () => {
      const out = new Set<string>();
      for (const [name, type] of types) {
        out.add(name);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) out.add(name + suffix);
        if (type === 'summary') for (const suffix of ['_sum', '_count']) out.add(name + suffix);
      }
      return out;
    },
  };
}

/** GET /metrics and parse it. */
export async function scrape(url: string, token?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  if (res.status !== 200) throw new Error(`scrape failed: ${res.status} ${await res.text()}`);
  return parseExposition(await res.text());
}

/** POSTs JSON (or raw text) with an optional bearer token. */
export async function postJson(
  url: string,
  body: unknown,
  opts: { token?: string; raw?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
      ...opts.headers,
    },
    body: opts.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    headers: res.headers,
  };
}

/** A feed event as read off the wire, whatever the format. */
export type ReadEvent = FeedLine & { readonly id?: string };

/**
 * A change-feed HTTP stream reader (Server-Sent Events or JSON lines), parsing events as they
 * arrive. `events` grows as the stream goes; `waitFor` resolves on the first match.
 */
export class FeedReader {
  readonly events: ReadEvent[] = [];
  #waiters: (() => void)[] = [];
  #ended = false;
  #error: unknown;

  private constructor(
    readonly status: number,
    readonly headers: Headers,
    private readonly controller: AbortController,
  ) {}

  /**
   * Opens `GET {url}/v1/changes?{query}`. A non-200 answer resolves with `status` and the JSON
   * `body` and no reader.
   */
  static async open(
    url: string,
    query: Record<string, string>,
    opts: {
      token?: string;
      lastEventId?: string;
      format?: 'sse' | 'ndjson';
      headers?: Record<string, string>;
    } = {},
  ): Promise<{ status: number; body?: { ok: false; error: SyncError }; reader?: FeedReader }> {
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/changes?${new URLSearchParams(query).toString()}`, {
      signal: controller.signal,
      headers: {
        accept: opts.format === 'ndjson' ? 'application/x-ndjson' : 'text/event-stream',
        ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.lastEventId !== undefined ? { 'last-event-id': opts.lastEventId } : {}),
        ...opts.headers,
      },
    });
    if (res.status !== 200) {
      return { status: res.status, body: (await res.json()) as { ok: false; error: SyncError } };
    }
    const reader = new FeedReader(res.status, res.headers, controller);
    const ndjson = (res.headers.get('content-type') ?? '').startsWith('application/x-ndjson');
    void reader.#pump(res.body!, ndjson);
    return { status: res.status, reader };
  }

  async #pump(body: ReadableStream<Uint8Array>, ndjson: boolean): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        const sep = ndjson ? '\n' : '\n\n';
        let i: number;
        while ((i = buffer.indexOf(sep)) >= 0) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + sep.length);
          const event = ndjson ? (JSON.parse(block) as ReadEvent) : parseSseBlock(block);
          if (event) this.#push(event);
        }
      }
    } catch (err) {
      if (!this.controller.signal.aborted) this.#error = err;
    } finally {
      this.#ended = true;
      this.#notify();
    }
  }

  #push(e: ReadEvent): void {
    this.events.push(e);
    this.#notify();
  }

  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The `change` events so far. */
  changes(): FeedChange[] {
    return this.events.flatMap((e) => (e.type === 'change' ? [e.change] : []));
  }

  /** Resolves once an event satisfies `pred` (or the stream ended, with `untilEnd`). */
  async waitFor(pred: (e: ReadEvent) => boolean, timeoutMs = 5000): Promise<ReadEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(pred);
      if (found) return found;
      if (this.#ended) throw new Error(`stream ended without the awaited event (${String(this.#error)})`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a feed event');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once `n` changes have arrived. */
  async waitForChanges(n: number, timeoutMs = 5000): Promise<FeedChange[]> {
    await this.waitFor(() => this.changes().length >= n, timeoutMs);
    return this.changes();
  }

  /** Resolves once the server ended the stream. */
  async waitForEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      if (Date.now() > deadline) throw new Error('stream did not end');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Disconnects (like a consumer crashing or its network dropping). */
  close(): void {
    this.controller.abort();
  }
}

function parseSseBlock(block: string): ReadEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  let comment = false;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) comment = true;
    else if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (data.length === 0) return comment ? { type: 'heartbeat' } : undefined; // `retry:` and the like
  const payload = JSON.parse(data.join('\n')) as Record<string, unknown>;
  const withId = id !== undefined ? { id } : {};
  switch (event) {
    case 'change':
      return { type: 'change', change: payload as unknown as FeedChange, ...withId };
    case 'caught_up':
      return { type: 'caught_up', version: payload['version'] as never, ...withId };
    case 'error':
      return { type: 'error', error: payload['error'] as SyncError };
    default:
      throw new Error(`unexpected SSE event ${event}`);
  }
}
