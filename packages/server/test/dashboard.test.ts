import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@syncline/test-support/server';
import { scrape } from './helpers/http.js';

const DASHBOARD = fileURLToPath(new URL('../../../ops/grafana/syncline-dashboard.json', import.meta.url));

interface Target {
  readonly expr: string;
  readonly refId: string;
  readonly datasource?: { readonly uid?: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
  readonly targets?: readonly Target[];
  readonly datasource?: { readonly uid?: string };
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly { readonly name: string; readonly definition?: string }[] };
}

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

const metricNames = (text: string) => [...text.matchAll(/\bsyncline_[a-zA-Z0-9_]+/g)].map((m) => m[0]);

describe('Grafana dashboard (ops/grafana/syncline-dashboard.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = dashboard.panels.filter((p) => p.type !== 'row');

  it('parses, with unique panel ids, non-overlapping panels and a query in every panel', () => {
    expect(dashboard.uid).toBe('syncline-overview');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      expect(p.datasource?.uid).toBe('${datasource}');
      for (const t of p.targets!)
        expect(metricNames(t.expr).length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    }
    const boxes = dashboard.panels.map((p) => p.gridPos);
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i]!;
        const b = boxes[j]!;
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap, `${dashboard.panels[i]!.title} / ${dashboard.panels[j]!.title}`).toBe(false);
      }
    }
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(expect.arrayContaining(['Throughput', 'Latency', 'Conflicts', 'Lag', 'Errors']));
  });

  it('references only metrics that a running server exports', async () => {
    running = await startServer({
      collections: { cards: { webhook: { url: 'http://127.0.0.1:9/', secret: 'x' } } },
    });
    const exported = (await scrape(running.url)).names();
    const referenced = new Set([
      ...panels.flatMap((p) => p.targets!.flatMap((t) => metricNames(t.expr))),
      ...dashboard.templating.list.flatMap((v) => metricNames(v.definition ?? '')),
    ]);
    expect(referenced.size).toBeGreaterThan(25);
    const missing = [...referenced].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });
});
