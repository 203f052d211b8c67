/**
 * Wire protocol version, sent by the client in the handshake and checked by the server.
 * A client whose version differs is refused with `unsupported_protocol`.
 *
 * Bump log (one line per bump, newest last):
 * - 1: initial protocol — push/pull/subscribe/unsubscribe/history/hash, live `changes` broadcasts
 *      carrying `after` for gap detection, `restore` as a mutation op.
 * - 2: a connection's pushes are applied one after another in arrival order, so a client may
 *      pipeline them (send the next batch before the last is answered). A version 1 server ran
 *      them concurrently: a pipelined batch could arrive at its mids before the one before it
 *      committed and be refused as a gap.
 *
 * Additive changes that need no bump (old peers keep working), newest last:
 * - `telemetry` client event (a server without it answers `unknown_event`; clients then stop).
 */
export const PROTOCOL_VERSION = 2;
