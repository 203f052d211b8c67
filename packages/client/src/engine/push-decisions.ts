/**
 * The push pipeline's decisions, as pure functions (`push-pipeline.ts` only wires them to the
 * outbox and the socket): what to read and push next, when the outbox is known to be drained,
 * and what to do with a refused batch.
 */
import { isRetryable, type SyncError } from '@syncline/protocol';
import type { OutboxEntry } from '../store/schema.js';

/** Push batches on the wire at once. Two keep the server and the client busy. */
export const PUSH_WINDOW = 2;

/**
 * Where the next batch starts: the mid after which to read the outbox, given the batches on the
 * wire (oldest first); `undefined` when nothing is to be sent now (the window is full, or the
 * outbox is known to hold nothing unsent).
 */
export function nextPushAfter(
  window: readonly { readonly batch: readonly { readonly mid: number }[] }[],
  drained: boolean,
): number | undefined {
  if (window.length >= PUSH_WINDOW || drained) return undefined;
  const last = window[window.length - 1]?.batch;
  return last ? last[last.length - 1]!.mid : 0;
}

/**
 * Whether a read of `limit` outbox entries is enough for one batch. It reads one entry past the
 * count limit (to see whether a txn crosses it); it must read more only while a txn that starts
 * the head runs past what was read (a txn is never split, so it is pushed whole).
 */
export function headIsEnough(entries: readonly OutboxEntry[], limit: number): boolean {
  const txn = entries[0]?.mutation.txn;
  return entries.length < limit || txn === undefined || entries[limit - 1]?.mutation.txn !== txn;
}

/** The outbox head that fits one push: within the count and payload limits, txns never split. */
export function cutBatch(entries: readonly OutboxEntry[], maxCount: number, maxBytes: number): OutboxEntry[] {
  let bytes = 0;
  let end = 0;
  for (; end < entries.length && end < maxCount; end++) {
    bytes += JSON.stringify(entries[end]!.mutation).length;
    if (bytes > maxBytes / 2 && end > 0) break;
  }
  end = Math.max(1, end);
  const txn = entries[end - 1]?.mutation.txn;
  if (txn === undefined || entries[end]?.mutation.txn !== txn) return entries.slice(0, end);
  // The batch would split a txn: cut before it, or if it starts the batch, send all of it.
  const start = entries.findIndex((e) => e.mutation.txn === txn);
  if (start > 0) return entries.slice(0, start);
  let stop = end;
  while (entries[stop]?.mutation.txn === txn) stop++;
  return entries.slice(0, stop);
}

/**
 * What is known of the outbox, so the pipeline reads it only when it may hold something unsent:
 * the highest mid any read returned, the highest mid a notice announced, the count of notices
 * that named no mid, and that count when a read last saw the outbox's end (-1 when unknown,
 * e.g. after a dropped window).
 */
export interface OutboxView {
  readonly highestRead: number;
  readonly highestNotified: number;
  readonly vagueNews: number;
  readonly drainedAt: number;
}

/** Nothing known yet: the outbox must be read. */
export const UNREAD_OUTBOX: OutboxView = { highestRead: 0, highestNotified: 0, vagueNews: 0, drainedAt: -1 };

/** Nothing unsent can be in the outbox: a read saw its end and every notice since is covered. */
export function isDrained(view: OutboxView): boolean {
  return view.drainedAt === view.vagueNews && view.highestNotified <= view.highestRead;
}

/**
 * The view after a notice that the outbox grew, up to `lastMid` when known; `undefined` when it
 * is no news (entries already read for pushing).
 */
export function noticed(view: OutboxView, lastMid?: number): OutboxView | undefined {
  if (lastMid === undefined) return { ...view, vagueNews: view.vagueNews + 1 };
  if (lastMid <= view.highestRead) return undefined;
  return { ...view, highestNotified: Math.max(view.highestNotified, lastMid) };
}

/**
 * The view after reading the outbox head: `head` is what the read returned, `batch` what of it
 * is sent, `newsAtRead` the vague notice count when the read began. A batch that took the whole
 * head saw the outbox's end as it was then. Only what is sent counts as read: the entries of
 * the head left for the next batch are still news (counting them made a bulk write of more
 * than one batch stop after its first batch when the outbox had been drained before).
 */
export function afterRead(
  view: OutboxView,
  head: readonly OutboxEntry[],
  batch: readonly OutboxEntry[],
  newsAtRead: number,
): OutboxView {
  const highestRead = Math.max(view.highestRead, batch[batch.length - 1]?.mid ?? 0);
  return { ...view, highestRead, drainedAt: batch.length === head.length ? newsAtRead : view.drainedAt };
}

/** The view once the batches on the wire are dropped: they are still in the outbox, unsent. */
export function endUnknown(view: OutboxView): OutboxView {
  return { ...view, drainedAt: -1 };
}

/**
 * Refusals of who the device is, not of what it sends: quarantining the batch would throw away
 * writes the server never judged. The engine backs off and tries again, reporting the error
 * until the app fixes the identity (signs in as the right user, or resets the client).
 */
const IDENTITY_REFUSALS: ReadonlySet<string> = new Set(['client_id_mismatch', 'unauthenticated']);

/**
 * Whether a failed push is refused for good (quarantine its batch) rather than a failure of the
 * connection or identity (back off and send again). A `mid_gap` is the batch behind a refused
 * one: it is sent again from the outbox. A `mid_overlap` is a resend coalesced across the
 * server's last mid: it is sent again, cut there; a `split_required` is a coalesced mutation the
 * server refused: it is sent again one mid per mutation (`apartAfter`).
 */
export function refusedForGood(error: SyncError): boolean {
  return (
    !isRetryable(error.code) &&
    error.code !== 'mid_gap' &&
    error.code !== 'mid_overlap' &&
    error.code !== 'split_required' &&
    !IDENTITY_REFUSALS.has(error.code)
  );
}

/**
 * How to quarantine a batch refused for good: `isolate` pushes one mutation at a time until the
 * offender is alone (a txn cannot be split, so it is replaced whole); `replace` sends it as
 * mutations the server always rejects, so its mids are consumed, and rolls it back locally.
 */
export function quarantineStep(batch: readonly OutboxEntry[]): 'isolate' | 'replace' {
  return batch.length > 1 && batch[0]!.mutation.txn === undefined ? 'isolate' : 'replace';
}

/** At most this many mids are learnt from one refusal (a longer coalesced run is split there). */
const MAX_APART = 10_000;

/**
 * The mids that must start a mutation of their own when a refused push is sent again: the
 * server's next expected mid after `mid_overlap`, and every mid but the first of the refused
 * coalesced mutation after `split_required`. Nothing for any other error.
 */
export function apartAfter(error: SyncError): number[] {
  const details = error.details ?? {};
  const num = (key: string) => {
    const v = details[key];
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
  };
  if (error.code === 'mid_overlap') {
    const expected = num('expectedMid');
    return expected === undefined ? [] : [expected];
  }
  if (error.code === 'split_required') {
    const from = num('mid');
    const to = num('midTo');
    if (from === undefined || to === undefined) return [];
    const out: number[] = [];
    for (let mid = from + 1; mid <= Math.min(to, from + MAX_APART); mid++) out.push(mid);
    return out;
  }
  return [];
}
