import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkConfig, SynclineConfigError } from '@syncline/protocol';
import type { SyncServerOptions } from '../sync-server.js';
import { ConfigFileSchema, type CONFIG_FILE_KEYS } from '../options-schema.js';

/** What a `--config` module may set; storage, logging and networking come from the CLI. */
export type ServerConfigFile = Partial<Pick<SyncServerOptions, (typeof CONFIG_FILE_KEYS)[number]>>;

/**
 * Imports a config module and checks its default export against the server options schema.
 * Throws `SynclineConfigError` naming the file and every bad path (unknown keys, wrong values).
 */
export async function loadConfig(path: string): Promise<ServerConfigFile> {
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  if (mod.default === undefined) {
    throw new SynclineConfigError(
      [
        {
          path: 'export default',
          message: 'missing: the module must export default an object of server options',
        },
      ],
      path,
    );
  }
  checkConfig(ConfigFileSchema, mod.default, path);
  return mod.default as ServerConfigFile;
}
