/**
 * Test support shared by every package's tests, the integration suites and the benchmarks.
 * This entry needs Node's built-ins only; the others load more: `./databases` (pg, redis),
 * `./server` (a Syncline server and a raw protocol client), `./devices` (the real client on
 * fake-indexeddb, installed globally when it loads).
 */
export { eventually } from './eventually.js';
export { freePort } from './ports.js';
export { mulberry32, runSeed } from './random.js';
export { runCli, spawnServer } from './server-process.js';
export type { ServerProcess } from './server-process.js';
export { frameLength, startFaultProxy } from './fault-proxy.js';
export type { Direction, FaultProxy, FaultStats, FrameFaults } from './fault-proxy.js';
export { startTcpProxy } from './tcp-proxy.js';
export type { TcpProxy } from './tcp-proxy.js';
