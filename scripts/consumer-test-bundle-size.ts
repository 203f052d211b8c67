// What Syncline adds to an app's bundle, measured on the installed packages of the consumer
// project: esbuild bundles (minified, browser, ES2022) of the smallest Dexie + React app, once
// plain and once synced through `@syncline/client` and `@syncline/client/react`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

const PLAIN = `import { Dexie } from 'dexie';
import { createRoot } from 'react-dom/client';
import { useEffect, useState } from 'react';
const db = new Dexie('app');
db.version(1).stores({ notes: 'id' });
function App() {
  const [n, setN] = useState(0);
  useEffect(() => void db.table('notes').count().then(setN), []);
  return <p>{n}</p>;
}
createRoot(document.body).render(<App />);
`;

const SYNCED = `import { Dexie } from 'dexie';
import { createRoot } from 'react-dom/client';
import { createSyncClient, synclineStores } from '@syncline/client';
import { SynclineProvider, useLiveQuery, useSyncStatus } from '@syncline/client/react';
const db = new Dexie('app');
db.version(1).stores({ notes: 'id', ...synclineStores });
const sync = createSyncClient(db, { url: location.origin, tables: { notes: { scope: 'all' } }, scopes: ['all'] });
void sync.start();
function App() {
  const n = useLiveQuery(() => db.table('notes').count(), [], 0);
  const status = useSyncStatus();
  return <p>{n} {status?.pending}</p>;
}
createRoot(document.body).render(<SynclineProvider client={sync}><App /></SynclineProvider>);
`;

export interface BundleSize {
  readonly minified: number;
  readonly gzip: number;
}

export interface BundleSizes {
  readonly plain: BundleSize;
  readonly synced: BundleSize;
  /** The synced bundle's largest inputs that the plain one lacks, by minified bytes. */
  readonly largestAdded: readonly { readonly path: string; readonly bytes: number }[];
  /** zod locales in the synced bundle besides English: all of them (about 250 KiB) when `z` is imported by name. */
  readonly extraZodLocales: readonly string[];
}

export async function measureBundles(projectDir: string): Promise<BundleSizes> {
  const plain = await bundle(projectDir, 'size-plain.tsx', PLAIN);
  const synced = await bundle(projectDir, 'size-synced.tsx', SYNCED);
  writeFileSync(join(projectDir, 'size-synced.meta.json'), JSON.stringify(synced.metafile));
  const inPlain = new Set(Object.keys(plain.metafile.outputs['out.js']?.inputs ?? {}));
  const added = Object.entries(synced.metafile.outputs['out.js']?.inputs ?? {})
    .filter(([path]) => !inPlain.has(path))
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }));
  // Grouped by package (node_modules/<name> or node_modules/@scope/<name>).
  const byPackage = new Map<string, number>();
  for (const { path, bytes } of added) {
    const key = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path;
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytes);
  }
  const largestAdded = [...byPackage]
    .map(([path, bytes]) => ({ path, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 12);
  const extraZodLocales = added
    .map((a) => a.path)
    .filter((p) => /zod\/.*locales\/(?!en\.js$)[^/]+\.js$/.test(p));
  return { plain: plain.size, synced: synced.size, largestAdded, extraZodLocales };
}

async function bundle(
  projectDir: string,
  file: string,
  source: string,
): Promise<{ size: BundleSize; metafile: Metafile }> {
  writeFileSync(join(projectDir, file), source);
  const result = await build({
    absWorkingDir: projectDir,
    entryPoints: [file],
    outfile: 'out.js',
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents;
  if (code === undefined) throw new Error(`esbuild produced no output for ${file}`);
  return { size: { minified: code.byteLength, gzip: gzipSync(code).byteLength }, metafile: result.metafile };
}
