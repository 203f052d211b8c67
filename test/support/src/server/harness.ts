import { randomBytes } from 'node:crypto';
import { io as ioClient, type Socket } from 'socket.io-client';
import {
  PROTOCOL_VERSION,
  type ChangesMessage,
  type ClientToServerEvents,
  type HashResponse,
  type HistoryRequest,
  type HistoryResponse,
  type Mutation,
  type ScopeId,
  type Version,
  type PullResponse,
  type PushResponse,
  type ServerToClientEvents,
  type SubscribeResponse,
} from '@syncline/protocol';
import {
  createSyncServer,
  MemoryStorage,
  silentLogger,
  type SyncServer,
  type SyncServerOptions,
  type SyncStorage,
} from '@syncline/server';

export type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface RunningServer {
  readonly server: SyncServer;
  readonly storage: SyncStorage;
  readonly url: string;
  stop(): Promise<void>;
}

/** A real Syncline server on 127.0.0.1 with an ephemeral port (memory storage unless given). */
export async function startServer(opts: Partial<SyncServerOptions> = {}): Promise<RunningServer> {
  const storage = opts.storage ?? new MemoryStorage();
  const server = createSyncServer({ auth: 'development', logger: silentLogger, ...opts, storage });
  const { url } = await server.listen(0);
  return {
    server,
    storage,
    url,
    stop: async () => {
      await server.close();
      await storage.close();
    },
  };
}

export const newClientId = (): string => `c_${randomBytes(8).toString('hex')}`;

type Unbrand<T> = T extends ScopeId ? string : T extends Version ? number : T;
type Loose<M> = { [K in keyof M]: Unbrand<M[K]> };

/** Mutation fields a test writes, with plain strings/numbers for ids; `mid` is filled in by the client. */
export type MutationInput = Mutation extends infer M
  ? M extends Mutation
    ? Loose<Omit<M, 'mid'>>
    : never
  : never;

/** A raw protocol client over a real socket.io-client connection. */
export class TestClient {
  readonly changes: ChangesMessage[] = [];
  #mid = 0;

  private constructor(
    readonly socket: TestSocket,
    readonly clientId: string,
  ) {
    socket.on('changes', (msg) => this.changes.push(msg));
  }

  static async connect(
    url: string,
    opts: {
      clientId?: string;
      token?: string;
      auth?: Record<string, unknown>;
      extraHeaders?: Record<string, string>;
    } = {},
  ): Promise<TestClient> {
    const clientId = opts.clientId ?? newClientId();
    const socket: TestSocket = ioClient(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: opts.auth ?? {
        protocolVersion: PROTOCOL_VERSION,
        clientId,
        ...(opts.token ? { token: opts.token } : {}),
      },
      ...(opts.extraHeaders ? { extraHeaders: opts.extraHeaders } : {}),
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
    return new TestClient(socket, clientId);
  }

  /** Builds mutations with this client's next mids. */
  mutations(...inputs: MutationInput[]): Mutation[] {
    return inputs.map((m) => ({ ...m, mid: ++this.#mid }) as Mutation);
  }

  push(mutations: readonly Mutation[]): Promise<PushResponse> {
    return this.socket.timeout(10_000).emitWithAck('push', { mutations: [...mutations] });
  }

  /** Pushes inputs with fresh mids and expects the push itself to succeed. */
  async write(...inputs: MutationInput[]) {
    const res = await this.push(this.mutations(...inputs));
    if (!res.ok) throw new Error(`push failed: ${res.error.code} ${res.error.message}`);
    return res.results;
  }

  /** A pull; pass the `horizon` of the page that began this copy (see PullRequest). */
  pull(scope: string, after = 0, limit?: number, horizon?: number): Promise<PullResponse> {
    return this.socket.timeout(10_000).emitWithAck('pull', {
      scope,
      after,
      ...(limit !== undefined ? { limit } : {}),
      ...(horizon !== undefined ? { horizon } : {}),
    } as never);
  }

  subscribe(...scopes: string[]): Promise<SubscribeResponse> {
    return this.socket.timeout(10_000).emitWithAck('subscribe', { scopes } as never);
  }

  history(req: Omit<HistoryRequest, 'scope'> & { scope: string }): Promise<HistoryResponse> {
    return this.socket.timeout(10_000).emitWithAck('history', req as never);
  }

  hash(scope: string): Promise<HashResponse> {
    return this.socket.timeout(10_000).emitWithAck('hash', { scope } as never);
  }

  /** Sends anything at all under any event name, for bad-input tests. */
  raw(event: string, ...args: unknown[]): Promise<unknown> {
    return (
      this.socket.timeout(10_000) as unknown as { emitWithAck(e: string, ...a: unknown[]): Promise<unknown> }
    ).emitWithAck(event, ...args);
  }

  /** Resolves once a `changes` message satisfying `pred` has arrived. */
  async waitForChange(pred: (m: ChangesMessage) => boolean, timeoutMs = 5000): Promise<ChangesMessage> {
    const found = this.changes.find(pred);
    if (found) return found;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('changes', on);
        reject(new Error('timed out waiting for a change'));
      }, timeoutMs);
      const on = (m: ChangesMessage) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        this.socket.off('changes', on);
        resolve(m);
      };
      this.socket.on('changes', on);
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Pulls every page of a scope from `after` and returns the final state per record. */
export async function pullAll(client: TestClient, scope: string, after = 0, limit = 100) {
  const records = new Map<string, PullResponse & { ok: true }>();
  const state = new Map<string, unknown>();
  let cursor = after;
  let pages = 0;
  for (;;) {
    const res = await client.pull(scope, cursor, limit);
    if (!res.ok) throw new Error(`pull failed: ${res.error.code}`);
    pages++;
    for (const c of res.changes) state.set(`${c.collection}/${c.id}`, c.value);
    cursor = res.upTo;
    records.set(String(pages), res);
    if (!res.hasMore) return { state, cursor, pages };
  }
}
