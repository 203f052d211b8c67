/**
 * How Syncline launches Debian's Chromium, for the browser tests and the browser benchmarks
 * alike (a standalone module: the benchmarks' build must not pull in the test harness).
 */
export const CHROMIUM_PATH = process.env['SYNCLINE_CHROMIUM'] ?? '/usr/bin/chromium';

/** Flags for every launch. Playwright adds its own defaults on top (it already passes most of these). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  // Containers often give /dev/shm 64 MB, which crashes the renderer; Debian's wrapper script
  // means to add this flag on small /dev/shm but its check breaks when findmnt prints two lines.
  '--disable-dev-shm-usage',
];
