/**
 * B4's writers: one per contender, each sending write `seq` of the hot record the way that
 * contender's clients do, to a server every subscriber is connected to.
 */
import { PROTOCOL_VERSION, asMid, asScopeId, asVersion, type PushResponse } from '@syncline/protocol';
import { SCOPE, card } from './cards.js';
import { connectRaw } from './peers/socketio-pair.js';
import { closeReplica, yReplica } from './peers/yjs-pair.js';

export interface Writer {
  /** Sends the write; resolves when it was handed to the transport (not when acknowledged). */
  send(seq: number): void;
  /** Fails loudly if any write was refused. */
  check(): Promise<void>;
  close(): void;
}

/** A Syncline client pushing one `put` per write (raw protocol, as B3's lanes). */
export async function synclineWriter(url: string): Promise<Writer> {
  const socket = await connectRaw(url, {
    protocolVersion: PROTOCOL_VERSION,
    clientId: `b4_writer_${process.pid}_${Date.now()}`,
  });
  let mid = 0;
  // Rejections are kept, not thrown: `check` reports them after the round.
  const acks: Promise<PushResponse | Error>[] = [];
  return {
    send(seq) {
      const mutation = {
        mid: asMid(++mid),
        scope: asScopeId(SCOPE),
        collection: 'cards',
        id: 'hot',
        op: 'put',
        base: asVersion(0),
        value: card('hot', seq),
      };
      const ack = socket
        .timeout(30_000)
        .emitWithAck('push', { mutations: [mutation] }) as Promise<PushResponse>;
      acks.push(ack.catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))));
    },
    async check() {
      for (const res of await Promise.all(acks.splice(0))) {
        if (res instanceof Error) throw new Error(`B4 push failed: ${res.message}`);
        if (!res.ok) throw new Error(`B4 push failed: ${res.error.code} ${res.error.message}`);
        if (res.results[0]?.status !== 'applied')
          throw new Error(`B4 push not applied: ${JSON.stringify(res.results[0])}`);
      }
    },
    close: () => socket.close(),
  };
}

/** The floor: the same `changes` message a Syncline broadcast carries, relayed by the bare server. */
export async function socketioWriter(url: string): Promise<Writer> {
  const socket = await connectRaw(url);
  return {
    send(seq) {
      const value = card('hot', seq);
      socket.emit('publish', {
        scope: SCOPE,
        after: seq - 1,
        changes: [{ collection: 'cards', id: 'hot', version: seq, value, clientId: 'floor', mid: seq }],
      });
    },
    check: async () => undefined,
    close: () => socket.close(),
  };
}

export async function yjsWriter(url: string): Promise<Writer> {
  const replica = await yReplica(url, SCOPE);
  return {
    send: (seq) => replica.map.set('hot', card('hot', seq)),
    check: async () => undefined,
    close: () => closeReplica(replica),
  };
}
