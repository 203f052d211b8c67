/**
 * `@syncline/server/cli`: the plumbing of the `syncline-server` binary, for apps that start a
 * server the way it does (the demo): its flags and environment variables (`parseCliArgs`,
 * `HELP`), the `--config` module loader, and the storage and fan-out the flags select
 * (`openBackend`). `runCli` is the binary itself.
 */
export { HELP, parseCliArgs } from './parse-args.js';
export type { CliOptions, PostgresCliOptions } from './parse-args.js';
export { loadConfig } from './load-config.js';
export type { ServerConfigFile } from './load-config.js';
export { openBackend } from './open-backend.js';
export type { Backend } from './open-backend.js';
export { runCli } from './run-cli.js';
