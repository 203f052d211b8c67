import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * Paths the service worker never answers: Syncline's Socket.IO endpoint, its HTTP routes
 * (change feed, server writes, health, metrics). They always go to the network, so a reload
 * never gets a cached answer from the sync server, and these navigations never get the app.
 */
export const NETWORK_ONLY_PATHS: readonly RegExp[] = [
  /^\/socket\.io(\/|$)/,
  /^\/v1(\/|$)/,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
];

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [
    react(),
    // An installable app whose shell (HTML, JS, CSS, icons) Workbox precaches, so the board opens
    // offline from IndexedDB. Updates: `prompt` — a new build's worker installs in the
    // background and waits; the page offers "Reload", which activates it (skipWaiting) and
    // reloads once it controls the page. A worker never swaps the app under a half-typed form.
    VitePWA({
      registerType: 'prompt',
      // The app registers the worker itself (src/pwa-update.tsx, `virtual:pwa-register/react`).
      injectRegister: false,
      manifest: {
        name: 'Syncline demo · Team board',
        short_name: 'Team board',
        description: 'A collaborative task board that works offline and syncs with Syncline.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#f4f5f7',
        theme_color: '#3b4fd8',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // The built app; the plugin adds the manifest and its icons itself.
        globPatterns: ['**/*.{js,css,html}'],
        // Deep links (`/some/path`) open the cached app, except Syncline's own routes.
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [...NETWORK_ONLY_PATHS],
        // No runtime caching at all: anything not precached (Socket.IO polling, /v1/*, health,
        // metrics) is never answered by the worker and goes to the network as if it were absent.
        runtimeCaching: [],
        cleanupOutdatedCaches: true,
        // Source maps stay on the server (DevTools fetches them on demand).
        globIgnores: ['**/*.map'],
      },
      // `pnpm dev` serves sources through Vite; no worker there (see server.ts for a stale one).
      devOptions: { enabled: false },
    }),
  ],
  resolve: {
    // Workspace packages export their TypeScript sources under this condition: no package build.
    conditions: ['syncline-source', ...defaultClientConditions],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // React, Dexie, RxJS, Socket.IO and the protocol's schemas: one ~170 kB (gzip) bundle is fine here.
    chunkSizeWarningLimit: 1024,
    rolldownOptions: {
      onwarn(warning, warn) {
        // The client lazily imports `dexie` for `inc`; the app imports it anyway.
        if (warning.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
        warn(warning);
      },
    },
  },
});
