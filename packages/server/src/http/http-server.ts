import {
  createServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { syncError } from '@syncline/protocol';
import { sendError } from './http-response.js';

/** Serves Syncline's routes; false, leaving the response alone, for any other path. */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The HTTP server a `createSyncServer` without `httpServer` makes: Syncline's routes, and
 * `unknown_route` for everything else. `handle` is a getter because the routes need the server
 * context built after this server (requests only arrive once it exists).
 */
export function createHttpServer(handle: () => HttpHandler): HttpServer {
  return createServer((req, res) => {
    if (!handle()(req, res)) {
      req.resume();
      sendError(
        res,
        syncError('unknown_route', `nothing at ${(req.url ?? '/').split('?')[0]!.slice(0, 128)}`),
      );
    }
  });
}

/**
 * Listens on `port` (0 = ephemeral) and `host`; resolves the bound port and URL after calling
 * `onListening` with it, or rejects with the listen error (port taken, bad host).
 */
export function listenHttp(
  httpServer: HttpServer,
  port: number,
  host: string,
  onListening: (port: number) => void,
): Promise<{ port: number; url: string }> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      const bound = (httpServer.address() as AddressInfo).port;
      onListening(bound);
      resolve({ port: bound, url: `http://${host}:${bound}` });
    });
  });
}
