import type { Server as HttpServer } from 'node:http';
import { isIP } from 'node:net';
import { SynclineConfigError } from '@syncline/protocol';
import type { Logger } from '../ops/logger.js';

/**
 * Development auth accepts every connection and opens every scope, so it may only listen where
 * nobody else can reach it: a loopback address. Anything else (`0.0.0.0`, `::`, a LAN address,
 * a host name other than `localhost`) needs auth hooks, or the loudly named
 * `allowInsecureDevAuth: true` (`syncline-server --insecure-dev-auth`).
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    // An IPv4 loopback address written as IPv6 (`::ffff:127.0.0.1`).
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

/** What decides whether development auth may listen on an address. */
export interface DevAuthExposure {
  readonly devMode: boolean;
  readonly allowInsecureDevAuth: boolean;
}

/** The refusal for development auth on `host`, or undefined when it may listen there. */
export function devAuthExposureError(opts: DevAuthExposure, host: string): SynclineConfigError | undefined {
  if (!opts.devMode || opts.allowInsecureDevAuth || isLoopbackHost(host)) return undefined;
  return new SynclineConfigError([
    {
      path: 'auth',
      message:
        `'development' auth accepts everyone and opens every scope, so it only listens on a loopback ` +
        `address (127.0.0.1, ::1, localhost), not on ${host}: pass auth hooks (a --config module ` +
        `with authenticate and authorize), listen on 127.0.0.1, or, for a trusted network only, ` +
        `set allowInsecureDevAuth: true (syncline-server --insecure-dev-auth)`,
    },
  ]);
}

/**
 * Throws `SynclineConfigError` (`invalid_config: auth: …`) when development auth would listen
 * on `host`, a non-loopback address, without `allowInsecureDevAuth`. For programs that listen
 * on an attached `httpServer` themselves (the demo), before they listen.
 */
export function assertDevAuthAddress(
  options: { readonly auth: unknown; readonly allowInsecureDevAuth?: boolean | undefined },
  host: string,
): void {
  const error = devAuthExposureError(
    { devMode: options.auth === 'development', allowInsecureDevAuth: options.allowInsecureDevAuth === true },
    host,
  );
  if (error) throw error;
}

/**
 * For an attached `httpServer`, which its owner listens on: when it starts listening on a
 * non-loopback address with development auth (and no `allowInsecureDevAuth`), the refusal is
 * logged as an error and the server is closed at once, before any connection is served.
 */
export function watchDevAuthExposure(httpServer: HttpServer, opts: DevAuthExposure, logger: Logger): void {
  if (!opts.devMode || opts.allowInsecureDevAuth) return;
  httpServer.on('listening', () => {
    const address = httpServer.address();
    if (address === null || typeof address === 'string') return; // a pipe or socket file: local
    const error = devAuthExposureError(opts, address.address);
    if (!error) return;
    logger.error('refusing to serve development auth on a non-loopback address', {
      code: error.code,
      address: address.address,
      message: error.message,
    });
    httpServer.close();
    httpServer.closeAllConnections();
  });
}
