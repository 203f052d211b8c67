import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SyncServerOptions } from '../create-sync-server.js';

/** What a `--config` module may set; storage, logging and networking come from the CLI. */
export type ServerConfigFile = Partial<
  Pick<
    SyncServerOptions,
    | 'auth'
    | 'collections'
    | 'limits'
    | 'retention'
    | 'cors'
    | 'path'
    | 'nodeId'
    | 'metrics'
    | 'changeFeed'
    | 'telemetry'
    | 'readinessChecks'
  >
>;

const ALLOWED = new Set([
  'auth',
  'collections',
  'limits',
  'retention',
  'cors',
  'path',
  'nodeId',
  'metrics',
  'changeFeed',
  'telemetry',
  'readinessChecks',
]);

/** Imports a config module and checks its top-level shape. */
export async function loadConfig(path: string): Promise<ServerConfigFile> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  const config = mod.default;
  if (typeof config !== 'object' || config === null) {
    throw new Error(`${path}: the default export must be an object of server options`);
  }
  const unknown = Object.keys(config).filter((k) => !ALLOWED.has(k));
  if (unknown.length > 0) throw new Error(`${path}: unknown option(s) ${unknown.join(', ')}`);
  const auth = (config as ServerConfigFile).auth;
  if (
    auth !== undefined &&
    auth !== 'development' &&
    (typeof auth.authenticate !== 'function' || typeof auth.authorize !== 'function')
  ) {
    throw new Error(`${path}: auth must be 'development' or { authenticate, authorize } functions`);
  }
  return config;
}
