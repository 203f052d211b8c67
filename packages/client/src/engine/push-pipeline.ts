/**
 * The push window. Up to PUSH_WINDOW batches are on the wire at once (each the outbox entries
 * after the last one sent), and each step settles the oldest answer. The server applies a
 * connection's pushes in arrival order (protocol 2), so while it commits one batch the client
 * writes the previous answer locally. Whatever interrupts (a dropped socket, a refused batch)
 * discards the window; the outbox still holds every unanswered entry, and mids make the resend
 * exactly-once.
 *
 * The outbox is read only when it may hold something unsent (`isDrained`): every path that adds
 * entries ends in a notice (`notice`), and a dropped window forgets that a read saw the end.
 * What this tab's own writes queued comes with their notice, and a batch that starts with them
 * is cut from memory instead of a read (`queued-run.ts`).
 */
import {
  lastMidOf,
  type Mutation,
  type MutationResult,
  type PushResponse,
  type SyncError,
} from '@syncline/protocol';
import { placeholderMutation } from '../store/discard.js';
import type { OutboxEntry } from '../store/schema.js';
import { withPush, withScope } from '../sync-metrics.js';
import { coalesce, spansOf } from './coalesce.js';
import type { EngineContext } from './engine-context.js';
import type { LiveChanges } from './live-changes.js';
import {
  afterRead,
  apartAfter,
  cutBatch,
  endUnknown,
  headIsEnough,
  isDrained,
  nextPushAfter,
  noticed,
  quarantineStep,
  refusedForGood,
  UNREAD_OUTBOX,
  type OutboxView,
} from './push-decisions.js';
import { headFromRun, trimRun, withQueued, type QueuedRun } from './queued-run.js';
import { answered, request, RequestFailed } from './transport.js';

/**
 * One push on the wire: its batch (outbox entries), the mutations sent for it (fewer when
 * coalesced), when it was sent, and its answer to come.
 */
interface InFlightPush {
  readonly batch: readonly OutboxEntry[];
  readonly mutations: readonly Mutation[];
  readonly sentAt: number;
  readonly response: Promise<PushResponse>;
}

export class PushPipeline {
  /** Pushes sent on the current socket and not settled yet, oldest first. */
  #inFlight: InFlightPush[] = [];
  #outbox: OutboxView = UNREAD_OUTBOX;
  #maxPerPush: number;
  /**
   * Mids that start a mutation of their own when coalescing (see `coalesce`): learnt from
   * `mid_overlap` and `split_required`, forgotten once the outbox no longer holds them.
   */
  readonly #apart = new Set<number>();
  /** Entries this tab queued and the outbox holds, not sent yet on this connection. */
  #run: QueuedRun = [];
  /** The last mid whose answer this engine stored on this connection (unknown: undefined). */
  #settledTo: number | undefined;

  constructor(
    private readonly context: EngineContext,
    private readonly live: LiveChanges,
  ) {
    this.#maxPerPush = context.options.limits.maxMutationsPerPush;
  }

  /** Whether pushes are on the wire unanswered (their commits may fill a live gap). */
  get inFlight(): boolean {
    return this.#inFlight.length > 0;
  }

  /**
   * The outbox has new entries, up to `lastMid` when known; `entries` are the ones this tab's
   * committed transaction queued, when it was this tab. Returns whether that is news (not
   * already read for pushing).
   */
  notice(lastMid?: number, entries?: readonly OutboxEntry[]): boolean {
    // Kept only while connected: a batch is cut from them right away, or they are read later.
    if (entries && this.context.socket()) this.#run = withQueued(this.#run, entries);
    const next = noticed(this.#outbox, lastMid);
    if (next === undefined) return false;
    this.#outbox = next;
    return true;
  }

  /** The socket is gone: the batches on the wire are still in the outbox, unsent. */
  drop(): void {
    this.#inFlight = [];
    this.#outbox = endUnknown(this.#outbox);
    this.#run = [];
    this.#settledTo = undefined;
  }

  /**
   * One step: fills the window with batches from the outbox entries after the last one sent,
   * then waits for the oldest answer and settles it. Returns whether anything is left to send or
   * settle.
   */
  async step(): Promise<boolean> {
    const { context } = this;
    const { options } = context;
    const socket = context.socket();
    if (!socket) return true;
    for (;;) {
      const after = nextPushAfter(this.#inFlight, isDrained(this.#outbox));
      if (after === undefined) break;
      const news = this.#outbox.vagueNews;
      const queued = headFromRun(this.#run, this.#inFlight.length > 0 ? after : this.#settledTo);
      const head = queued ?? (await this.#outboxHead(after));
      // Fenced: another tab leads now. Send nothing; the leadership stops this engine.
      if (!(await this.#mayPush())) return this.#fenced();
      // The socket may have dropped (and the window with it) while the outbox was read.
      if (context.socket() !== socket) break;
      const batch = cutBatch(head, this.#maxPerPush, options.limits.maxPayloadBytes);
      // From memory, the outbox's end was not seen: only what is sent counts as read.
      this.#outbox = afterRead(this.#outbox, head, batch, queued ? this.#outbox.drainedAt : news);
      if (batch.length === 0) break;
      this.#run = trimRun(this.#run, batch[batch.length - 1]!.mid);
      const mutations = options.coalesce ? coalesce(batch, this.#apart) : batch.map((e) => e.mutation);
      const response = request(socket, 'push', { mutations }, options.requestTimeoutMs);
      response.catch(() => undefined); // awaited when its turn comes, or discarded with the window
      this.#inFlight.push({ batch, mutations, sentAt: options.now(), response });
    }
    if (context.socket() !== socket) return true; // dropped: push again on the next connection
    const oldest = this.#inFlight[0];
    if (!oldest) {
      // The outbox is empty. Gaps still held after the last answer were not ours: pull them.
      for (const scope of this.live.releaseHeld()) context.needPull(scope);
      return false;
    }
    let res: PushResponse & { ok: true };
    try {
      res = await answered(oldest.response);
      context.metric((m) => withPush(m, options.now() - oldest.sentAt, res.results));
    } catch (err) {
      // The batches behind a refused one start past a mid that was not consumed: the server
      // refuses them as gaps, applying nothing. They are sent again from the outbox.
      this.drop();
      if (err instanceof RequestFailed) this.#learnApart(err.error);
      if (err instanceof RequestFailed && refusedForGood(err.error)) {
        context.report(err.error);
        await this.#quarantine(oldest.batch, err.error);
        return true;
      }
      throw err;
    }
    this.#inFlight.shift();
    // Learnt mids the outbox no longer holds (settled now) need no splitting any more.
    const settledTo = oldest.batch[oldest.batch.length - 1]?.mid ?? 0;
    for (const mid of this.#apart) if (mid <= settledTo) this.#apart.delete(mid);
    await context.writes.run(async () => {
      const spans = spansOf(oldest.mutations);
      const { cursors } = await options.store.settle(oldest.batch, res.results, res.committed, spans);
      const sent = new Map(oldest.mutations.map((m) => [m.mid, m]));
      for (const r of res.results) {
        const m = sent.get(r.mid)!;
        this.live.noteIncluded(lastMidOf(m));
        // A duplicate's outcome is only in server state: fetch it.
        if (r.status === 'duplicate') context.needPull(m.scope);
      }
      for (const [scope, cursor] of cursors) context.metric((m) => withScope(m, scope, { cursor }));
      await this.live.retryHeld();
    });
    this.#settledTo = settledTo;
    this.#maxPerPush = options.limits.maxMutationsPerPush;
    options.onActivity();
    return true;
  }

  /** Whether this tab still leads (`fence`); checked right before sending, in the same task. */
  #learnApart(error: SyncError): void {
    for (const mid of apartAfter(error)) this.#apart.add(mid);
  }

  #mayPush(): Promise<boolean> {
    return this.context.options.fence?.() ?? Promise.resolve(true);
  }

  #fenced(): false {
    this.drop();
    return false;
  }

  /** Enough of the outbox head after `after` for one batch (see `headIsEnough`). */
  async #outboxHead(after: number): Promise<OutboxEntry[]> {
    let limit = this.#maxPerPush + 1;
    for (;;) {
      const entries = await this.context.options.store.pendingEntries(limit, after);
      if (headIsEnough(entries, limit)) return entries;
      limit *= 2;
    }
  }

  /**
   * A push refused as a whole and not retryable: one of its mutations can never be accepted
   * (e.g. the server's limits are lower than this client's). Isolate it by pushing one at a
   * time; the lone offender is replaced on the wire by a mutation the server always rejects
   * (restore of a version that cannot exist) so its mid is consumed and the queue moves on,
   * and it is rolled back and reported locally with the original error.
   */
  async #quarantine(batch: readonly OutboxEntry[], error: SyncError): Promise<void> {
    if (quarantineStep(batch) === 'isolate') {
      this.#maxPerPush = 1; // isolate the offender
      return;
    }
    const { context } = this;
    const { options } = context;
    const socket = context.socket();
    if (!socket || !(await this.#mayPush())) return;
    const placeholders = batch.map((e) => placeholderMutation(e.mutation));
    const res: PushResponse & { ok: true } = await answered(
      request(socket, 'push', { mutations: placeholders }, options.requestTimeoutMs),
    );
    await context.writes.run(() =>
      options.store.settle(
        batch,
        res.results.map((r): MutationResult => (r.status === 'rejected' ? { ...r, error } : r)),
        res.committed,
      ),
    );
    options.onActivity();
  }
}
