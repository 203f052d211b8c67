// Setup file of the shared test workers (vitest.config.ts): installs fake-indexeddb's globals
// before any test file of the worker loads. A worker keeps its modules across files, and Dexie
// looks for the global `indexedDB` once, when it loads: a file that imports Dexie without
// fake-indexeddb (the Chromium tests share their cases with the Node ones) would otherwise leave
// every later Node test of that worker with "IndexedDB API missing".
import 'fake-indexeddb/auto';
