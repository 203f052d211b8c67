import { decode, encode } from '@msgpack/msgpack';
import type pg from 'pg';

/** One Socket.IO namespace's adapter, as the bus sees it. */
export interface BusReceiver {
  /** The adapter's uid: its own messages come back through NOTIFY and are skipped. */
  readonly uid: string;
  onMessage(message: BusMessage): void;
}

/** A Socket.IO cluster message or response; the bus only reads `uid` and `nsp`. */
export interface BusMessage {
  uid?: string;
  nsp?: string;
  [key: string]: unknown;
}

export interface PgNotifyBusOptions {
  /** A pool of its own: one connection is held for LISTEN, the others publish. */
  readonly pool: pg.Pool;
  /** Channel of namespace `nsp` is `${channelPrefix}#${nsp}`; it keeps clusters on one database apart. */
  readonly channelPrefix: string;
  /** Schema-qualified, quoted name of the attachments table (`id bigserial, created_at, payload bytea`). */
  readonly attachmentsTable: string;
  /** NOTIFY payloads above this many bytes go through the attachments table (PostgreSQL's limit is 8000). */
  readonly payloadThreshold?: number;
  /** Attachments older than this are deleted, checked as often (default 30 s). */
  readonly cleanupIntervalMs?: number;
  /** How often the LISTEN connection is checked with a query, to catch a silently dead one (default 10 s). */
  readonly pingIntervalMs?: number;
  /** Every failure of the bus (it never throws at its caller's event loop). */
  readonly onError: (err: Error, during: string) => void;
  /** Called when the LISTEN connection is lost (once per connection; `connect()` makes the next). */
  readonly onLost: (err: Error) => void;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

function hasBinary(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 32) return false;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return true;
  if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
  return Object.values(value).some((v) => hasBinary(v, depth + 1));
}

/**
 * The PostgreSQL LISTEN/NOTIFY transport under `@socket.io/postgres-adapter`'s `PostgresAdapter`,
 * speaking the same wire format as the adapter's own client (JSON notifications; larger or
 * binary messages as msgpack rows of the attachments table, announced by id), but built to
 * survive database restarts:
 *
 * - every connection has an `error` listener for its whole life (the stock client holds its
 *   LISTEN connection checked out without one, so a restart of the database crashes the process);
 * - a lost LISTEN connection is released to the pool as broken (not leaked) and reported
 *   (`onLost`); its owner (`FanoutBase`) calls `connect()` again, with backoff, until `close()`;
 * - `listening` says whether cross-node messages can arrive right now, for readiness;
 * - received messages are delivered in NOTIFY order, attachments included.
 */
export class PgNotifyBus {
  readonly #options: PgNotifyBusOptions;
  readonly #receivers = new Map<string, BusReceiver>(); // by channel
  #client: pg.PoolClient | undefined;
  #closed = false;
  readonly #cleanupTimer: NodeJS.Timeout;
  readonly #pingTimer: NodeJS.Timeout;
  #inbox: Promise<void> = Promise.resolve();
  #outbox: Promise<void> = Promise.resolve();

  constructor(options: PgNotifyBusOptions) {
    this.#options = options;
    this.#cleanupTimer = setInterval(() => void this.#cleanup(), options.cleanupIntervalMs ?? 30_000);
    this.#cleanupTimer.unref();
    this.#pingTimer = setInterval(() => void this.#ping(), options.pingIntervalMs ?? 10_000);
    this.#pingTimer.unref();
  }

  /** True while the LISTEN connection is up: messages of other nodes arrive. */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  /** Starts receiving the messages of namespace `nsp`. */
  add(nsp: string, receiver: BusReceiver): void {
    const channel = this.#channel(nsp);
    this.#receivers.set(channel, receiver);
    // Without a connection, the (re)connection LISTENs on every channel.
    this.#client
      ?.query(`LISTEN ${pgIdent(channel)}`)
      .catch((err: unknown) => this.#options.onError(asError(err), 'listen'));
  }

  remove(nsp: string): void {
    const channel = this.#channel(nsp);
    this.#receivers.delete(channel);
    this.#client?.query(`UNLISTEN ${pgIdent(channel)}`).catch(() => undefined);
  }

  /**
   * Publishes one message to every node of the cluster; rejects when the database is unreachable.
   * Messages go out one after the other in call order, like over the single connection of the
   * Redis adapters: NOTIFY order is then this node's commit order, so receivers see no spurious
   * version gaps (each would cost a pull).
   */
  publish(message: BusMessage): Promise<void> {
    const channel = this.#channel(message.nsp ?? '/');
    const json = hasBinary(message) ? undefined : JSON.stringify(message);
    const attachment =
      json === undefined || Buffer.byteLength(json) > (this.#options.payloadThreshold ?? 8000)
        ? Buffer.from(encode(message))
        : undefined;
    const send = async () => {
      let payload = json;
      if (attachment !== undefined) {
        const { rows } = await this.#options.pool.query<{ id: string }>(
          `INSERT INTO ${this.#options.attachmentsTable} (payload) VALUES ($1) RETURNING id`,
          [attachment],
        );
        payload = JSON.stringify({ uid: message.uid, type: message['type'], attachmentId: rows[0]!.id });
      }
      await this.#options.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    };
    const sent = this.#outbox.then(send);
    this.#outbox = sent.catch(() => undefined);
    return sent.catch((err: unknown) => {
      this.#options.onError(asError(err), 'publish');
      throw err;
    });
  }

  /**
   * Stops listening and every timer. The pool stays open: its owner ends it. Call once no
   * `connect()` is in progress.
   */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#cleanupTimer);
    clearInterval(this.#pingTimer);
    const client = this.#client;
    this.#client = undefined;
    // Destroyed, not pooled: a pooled connection would go on LISTENing for the next borrower.
    client?.release(true);
    await Promise.all([this.#inbox, this.#outbox]);
  }

  #channel(nsp: string): string {
    return `${this.#options.channelPrefix}#${nsp}`;
  }

  /**
   * One attempt to take a connection and LISTEN on every channel: resolves once listening,
   * rejects (the connection destroyed) when any step fails.
   */
  async connect(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#options.pool.connect();
      // For the connection's whole life: a checked-out client without an error listener
      // takes the process down when the database goes away.
      const c = client;
      c.on('error', (err) => this.#lost(c, err));
      c.on('end', () => this.#lost(c, new Error('LISTEN connection ended')));
      c.on('notification', (n) => this.#receive(n));
      for (const channel of this.#receivers.keys()) await c.query(`LISTEN ${pgIdent(channel)}`);
      if (this.#closed) {
        c.release(true);
        return;
      }
      this.#client = c;
    } catch (err) {
      // A connection that failed half-way is destroyed, never pooled.
      client?.release(asError(err));
      throw err;
    }
  }

  /** The LISTEN connection died (error, end or failed ping): drop it once and report it. */
  #lost(client: pg.PoolClient, err: Error): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    // Released as broken: the pool destroys it and frees its slot.
    client.release(err);
    this.#options.onLost(err);
  }

  async #ping(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('LISTEN connection did not answer a ping')), 5000);
        }),
      ]);
    } catch (err) {
      this.#lost(client, asError(err));
    } finally {
      clearTimeout(timer);
    }
  }

  #receive(n: pg.Notification): void {
    const receiver = this.#receivers.get(n.channel);
    if (this.#closed || !receiver || n.payload === undefined) return;
    const payload = n.payload;
    // One chain: a message that needs its attachment fetched never overtakes an earlier one.
    this.#inbox = this.#inbox.then(async () => {
      try {
        const header = JSON.parse(payload) as BusMessage & { attachmentId?: string };
        if (header.uid === receiver.uid) return;
        let message: BusMessage = header;
        if (header.attachmentId !== undefined) {
          const { rows } = await this.#options.pool.query<{ payload: Buffer }>(
            `SELECT payload FROM ${this.#options.attachmentsTable} WHERE id = $1`,
            [header.attachmentId],
          );
          const row = rows[0];
          if (!row) throw new Error(`attachment ${header.attachmentId} is gone`);
          message = decode(row.payload) as BusMessage;
        }
        receiver.onMessage(message);
      } catch (err) {
        this.#options.onError(asError(err), 'receive');
      }
    });
  }

  async #cleanup(): Promise<void> {
    const ms = this.#options.cleanupIntervalMs ?? 30_000;
    try {
      await this.#options.pool.query(
        `DELETE FROM ${this.#options.attachmentsTable} WHERE created_at < now() - make_interval(secs => $1)`,
        [ms / 1000],
      );
    } catch (err) {
      this.#options.onError(asError(err), 'cleanup');
    }
  }
}

/** A LISTEN channel name as an identifier (channels are identifiers, quoted like any other). */
function pgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
