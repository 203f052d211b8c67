/** What the results were measured on, and with which versions. */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { versionOf } from './peers/untyped.js';

export function machineInfo() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
    /** 1/5/15-minute load: the machine is shared, so a busy one is visible in the results. */
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

const gitHead = (): string => {
  try {
    const head = readFileSync(new URL('../.git/HEAD', import.meta.url), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head.slice(0, 12);
    return readFileSync(new URL(`../.git/${head.slice(5)}`, import.meta.url), 'utf8')
      .trim()
      .slice(0, 12);
  } catch {
    return 'unknown';
  }
};

export function suiteVersions(): Record<string, string> {
  const pkgs = [
    'better-sqlite3',
    'socket.io',
    'socket.io-client',
    'dexie',
    'fake-indexeddb',
    'yjs',
    'y-websocket',
  ];
  return {
    syncline: gitHead(),
    ...Object.fromEntries(pkgs.map((p) => [p, versionOf(p)])),
    '@y/websocket-server': versionOf('@y/websocket-server'),
    rxdb: versionOf('rxdb'),
    pouchdb: versionOf('pouchdb'),
    'express-pouchdb': versionOf('express-pouchdb'),
  };
}
