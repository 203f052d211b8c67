// Builds the demo's static files with Vite (used by the browser tests; `pnpm build` runs the CLI).
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

export const DEMO_ROOT = fileURLToPath(new URL('.', import.meta.url));

/** Builds the app into `outDir` (default `apps/demo/dist`) in production mode. */
export async function buildDemo(opts: { outDir?: string } = {}): Promise<void> {
  await build({
    root: DEMO_ROOT,
    configFile: fileURLToPath(new URL('./vite.config.ts', import.meta.url)),
    mode: 'production',
    logLevel: 'warn',
    build: opts.outDir === undefined ? {} : { outDir: opts.outDir, emptyOutDir: true },
  });
}
