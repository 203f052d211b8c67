/**
 * Peers that ship no TypeScript types (ws, PouchDB, express-pouchdb, pg). They are loaded with
 * `require` and given the few members the suite uses, instead of ambient `declare module`
 * blocks that would override real typings elsewhere in the typecheck program.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Duplex } from 'node:stream';

const require = createRequire(import.meta.url);

export interface WsSocket {
  send(data: string): void;
  close(): void;
  on(event: 'message', cb: (data: Buffer) => void): void;
}
export interface WsServer {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WsSocket) => void): void;
  emit(event: 'connection', ws: WsSocket, req: IncomingMessage): boolean;
  on(event: 'connection', cb: (ws: WsSocket, req: IncomingMessage) => void): void;
}
export interface WsModule {
  WebSocketServer: new (opts: { noServer: true }) => WsServer;
  /** The client class, shaped like the DOM WebSocket that y-websocket expects. */
  WebSocket: unknown;
}
export const loadWs = (): WsModule => require('ws') as WsModule;

export interface PouchDoc {
  _id: string;
  _rev?: string;
  [field: string]: unknown;
}
export interface PouchReplication {
  cancel(): void;
  on(event: 'paused' | 'active' | 'error', cb: (arg?: unknown) => void): PouchReplication;
}
export interface PouchChanges {
  cancel(): void;
  on(event: 'change', cb: (change: { id: string; doc?: PouchDoc }) => void): PouchChanges;
}
export interface PouchDatabase {
  put(doc: PouchDoc): Promise<{ ok: boolean; id: string; rev: string }>;
  get(id: string): Promise<PouchDoc>;
  bulkDocs(docs: PouchDoc[]): Promise<unknown[]>;
  allDocs(opts: { include_docs: boolean }): Promise<{ rows: { doc?: PouchDoc }[] }>;
  info(): Promise<{ doc_count: number; update_seq: number | string }>;
  sync(remote: string, opts: { live: boolean; retry: boolean }): PouchReplication;
  replicate: { to(remote: string): Promise<unknown> };
  changes(opts: { live: true; since: 'now'; include_docs: boolean }): PouchChanges;
  close(): Promise<void>;
}
export interface PouchStatic {
  new (name: string, opts?: { adapter: string }): PouchDatabase;
  plugin(p: unknown): PouchStatic;
  defaults(opts: { adapter: string }): PouchStatic;
}

/** PouchDB with its in-memory adapter (leveldown's native build is blocked here). */
export function loadPouch(): PouchStatic {
  const PouchDB = require('pouchdb') as PouchStatic;
  PouchDB.plugin(require('pouchdb-adapter-memory'));
  return PouchDB.defaults({ adapter: 'memory' });
}

export type ExpressPouch = (
  PouchDB: PouchStatic,
  opts: { mode: 'minimumForPouchDB'; inMemoryConfig: boolean; logPath: string },
) => RequestListener;
export const loadExpressPouch = (): ExpressPouch => require('express-pouchdb') as ExpressPouch;

export interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}
export const loadPg = (): { Client: new (opts: { connectionString: string }) => PgClient } =>
  require('pg') as { Client: new (opts: { connectionString: string }) => PgClient };

/** Installed version of a package, for the `versions` of a row. */
export function versionOf(pkg: string): string {
  // Read the file directly: not every package exports `./package.json`.
  const file = fileURLToPath(new URL(`../node_modules/${pkg}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
