import type { ChangesMessage } from './messages/changes.js';
import type { Hello } from './messages/handshake.js';
import type { ReauthRequest, ReauthResponse, SessionEnded } from './messages/reauth.js';
import type { HashRequest, HashResponse } from './messages/scope-hash.js';
import type { HistoryRequest, HistoryResponse } from './messages/history.js';
import type { PullRequest, PullResponse } from './messages/pull.js';
import type { PushRequest, PushResponse } from './messages/push.js';
import type { QueryRequest, QueryResponse } from './messages/query.js';
import type {
  SubscribeRequest,
  SubscribeResponse,
  UnsubscribeRequest,
  UnsubscribeResponse,
} from './messages/subscribe.js';
import type { TelemetryReport, TelemetryResponse } from './messages/telemetry.js';
import type { PresenceLeaveRequest, PresenceLeaveResponse } from './messages/presence-leave.js';
import type { PresenceSetRequest, PresenceSetResponse } from './messages/presence-set.js';
import type { PresenceMessage } from './messages/presence-update.js';
import type { PresenceWatchRequest, PresenceWatchResponse } from './messages/presence-watch.js';
import type { SyncError } from './error-codes.js';

/** Events a client emits; each carries one request and expects one acknowledgement. */
export interface ClientToServerEvents {
  push: (req: PushRequest, ack: (res: PushResponse) => void) => void;
  pull: (req: PullRequest, ack: (res: PullResponse) => void) => void;
  subscribe: (req: SubscribeRequest, ack: (res: SubscribeResponse) => void) => void;
  unsubscribe: (req: UnsubscribeRequest, ack: (res: UnsubscribeResponse) => void) => void;
  history: (req: HistoryRequest, ack: (res: HistoryResponse) => void) => void;
  hash: (req: HashRequest, ack: (res: HashResponse) => void) => void;
  /** Optional sync-health summary (added without a protocol bump: older servers say `unknown_event`). */
  telemetry: (req: TelemetryReport, ack: (res: TelemetryResponse) => void) => void;
  /** Fresh credentials for this connection, before the current ones expire (protocol 4). */
  reauth: (req: ReauthRequest, ack: (res: ReauthResponse) => void) => void;
  /** Ephemeral presence (additive: older servers answer `unknown_event`). */
  presence_set: (req: PresenceSetRequest, ack: (res: PresenceSetResponse) => void) => void;
  presence_leave: (req: PresenceLeaveRequest, ack: (res: PresenceLeaveResponse) => void) => void;
  presence_watch: (req: PresenceWatchRequest, ack: (res: PresenceWatchResponse) => void) => void;
  /** A read-through query (added without a protocol bump: older servers say `unknown_event`). */
  query: (req: QueryRequest, ack: (res: QueryResponse) => void) => void;
}

/** Event names a client may emit. Anything else is answered with `unknown_event`. */
export const CLIENT_EVENTS = [
  'push',
  'pull',
  'subscribe',
  'unsubscribe',
  'history',
  'hash',
  'telemetry',
  'reauth',
  'presence_set',
  'presence_leave',
  'presence_watch',
  'query',
] as const satisfies readonly (keyof ClientToServerEvents)[];
export type ClientEventName = (typeof CLIENT_EVENTS)[number];

/**
 * The server's view of the same events: nothing inbound is trusted until validated, so every
 * argument is `unknown` here.
 */
export type InboundEvents = { [K in ClientEventName]: (...args: unknown[]) => void };

/** Events the server emits. */
export interface ServerToClientEvents {
  hello: (msg: Hello) => void;
  changes: (msg: ChangesMessage) => void;
  /** An event that could not be acknowledged (no ack callback, unknown event) was refused. */
  protocol_error: (error: SyncError & { event: string }) => void;
  /** The connection's access ended (`auth_expired`, `access_revoked`); the server closes it next. */
  session_ended: (error: SessionEnded) => void;
  /** Presence entries of a watched scope: present (refreshed before `ttlMs`) and left. */
  presence: (msg: PresenceMessage) => void;
}
