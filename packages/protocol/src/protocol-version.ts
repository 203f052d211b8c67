/**
 * Wire protocol version, sent by the client in the handshake and checked by the server.
 * A client whose version differs is refused with `unsupported_protocol`.
 *
 * Bump log (one line per bump, newest last):
 * - 1: initial protocol — push/pull/subscribe/unsubscribe/history/hash, live `changes` broadcasts
 *      carrying `after` for gap detection, `restore` as a mutation op.
 * - 2: a connection's pushes are applied one after another in arrival order, so a client may
 *      pipeline them (send the next batch before the last is answered; a version 1 server ran
 *      them concurrently, and a pipelined batch could be refused as a gap). A push's own
 *      commits are no longer broadcast back to the connection that pushed them: its response
 *      names them (`committed`: scope, after, count) and the client moves its cursor over them,
 *      instead of receiving and applying every change it just wrote a second time.
 * - 3: values carry tagged types (`{ "$date": iso }`, `{ "$bytes": b64 }`,
 *      `{ "$arraybuffer": b64 }`), so object keys that start with one `$` are reserved and a
 *      user key starting with `$` travels with one more; record ids that start with `~` encode
 *      number and compound keys (`~n…`, `~a[…]`, `~~` for a string starting with `~`). A
 *      version 2 client would send `$`-keys and `~`-ids that now mean something else.
 * - 4: credentials end the connection's access when they expire: the server closes a socket at
 *      its principal's `expiresAt` (after a `session_ended` event), tells the client that time in
 *      `hello.expiresAt`, and takes fresh credentials on the live connection (`reauth`, answered
 *      with the new `expiresAt`). A version 3 client neither knows when it will be cut off nor
 *      can it refresh without reconnecting; `server.revoke` ends a principal's sockets
 *      (`access_revoked`).
 *
 * - 5: a mutation may cover a run of consecutive mids (`midTo`): the client coalesces the
 *      queued edits of one record into one mutation when it cuts a push. The server applies it
 *      as one change covering `mid … midTo` (one result, one version, exactly once for the whole
 *      range) and refuses a push whose coalesced mutation straddles its last applied mid
 *      (`mid_overlap`). A version 4 server would refuse `midTo` as an unknown field.
 *
 * Additive changes that need no bump (old peers keep working), newest last:
 * - `telemetry` client event (a server without it answers `unknown_event`; clients then stop).
 * - ephemeral presence: `presence_set`, `presence_leave`, `presence_watch` client events and the
 *   `presence` server event (a server without them answers `unknown_event`; the client then
 *   shows only its own tabs). New error codes `presence_too_large` and
 *   `too_many_presence_entries` are only ever sent in answer to these events.
 * - `query` client event: read-through queries (a server without it answers `unknown_event`).
 */
export const PROTOCOL_VERSION = 5;
