export { PROTOCOL_VERSION } from './protocol-version.js';
export {
  ClientIdSchema,
  ScopeIdSchema,
  CollectionNameSchema,
  RecordIdSchema,
  VersionSchema,
  MidSchema,
  TxnIdSchema,
  asVersion,
  asMid,
  asClientId,
  asScopeId,
} from './ids.js';
export type { ClientId, ScopeId, CollectionName, RecordId, Version, Mid } from './ids.js';
export { ERROR_CODES, ErrorCodeSchema, SyncErrorSchema, syncError, isRetryable } from './error-codes.js';
export type { ErrorCode, SyncError } from './error-codes.js';
export { DEFAULT_LIMITS, ENVELOPE_DEPTH, QUERY_LIMITS } from './limits.js';
export type { Limits } from './limits.js';
export {
  FORBIDDEN_KEYS,
  JsonValueSchema,
  JsonObjectSchema,
  inspectJson,
  jsonEqual,
  changedKeys,
  cloneJson,
  isJsonObject,
} from './json.js';
export type { JsonPrimitive, JsonValue, JsonObject, InspectLimits, InspectResult } from './json.js';
export {
  VALUE_TAGS,
  encodeValue,
  encodeRecord,
  decodeValue,
  decodeRecord,
  checkEncoded,
  checkEncodedRecord,
  isTagLike,
  isReservedKey,
  encodeKey,
  decodeKey,
  encodeKeyPath,
} from './value-codec.js';
export type { AppValue, AppObject, CodecError, CodecResult } from './value-codec.js';
export { encodeMutation } from './mutation-codec.js';
export type { AppMutation } from './mutation-codec.js';
export { bytesToBase64, base64ToBytes, isCanonicalBase64 } from './base64.js';
export { RECORD_KEY_SIGIL, encodeRecordKey, decodeRecordKey, recordKeyProblem } from './record-key.js';
export type { RecordKey, RecordKeyResult } from './record-key.js';
export { canonicalJson } from './canonical-json.js';
export { ScopeHasher, addToScopeSum, scopeHash, scopeHashHex, scopeRecordDigest } from './scope-hash.js';
export { parseKeyPath, isKeyPathError, getAtPath, setAtPath, unsetAtPath } from './key-path.js';
export type { KeyPathError } from './key-path.js';
export {
  MUTATION_OPS,
  MutationSchema,
  PutMutationSchema,
  PatchMutationSchema,
  PatchSchema,
  DeleteMutationSchema,
  IncMutationSchema,
  RestoreMutationSchema,
  lastMidOf,
} from './mutation.js';
export type {
  MutationOp,
  Mutation,
  Patch,
  PutMutation,
  PatchMutation,
  DeleteMutation,
  IncMutation,
  RestoreMutation,
} from './mutation.js';
export { ChangeSchema, RecordStateSchema } from './record.js';
export type { Change, RecordState } from './record.js';
export {
  CONFLICT_STRATEGIES,
  MutationResultSchema,
  AppliedResultSchema,
  MergedResultSchema,
  ConflictResultSchema,
  RejectedResultSchema,
  DuplicateResultSchema,
} from './mutation-result.js';
export type {
  ConflictStrategy,
  MutationResult,
  MutationStatus,
  AppliedResult,
  MergedResult,
  ConflictResult,
  RejectedResult,
  DuplicateResult,
} from './mutation-result.js';
export { ErrorResponseSchema } from './messages/response.js';
export type { ErrorResponse } from './messages/response.js';
export { HandshakeSchema, HelloSchema } from './messages/handshake.js';
export type { Handshake, Hello } from './messages/handshake.js';
export { CommittedRangeSchema, PushRequestSchema, PushResponseSchema } from './messages/push.js';
export type { CommittedRange, PushRequest, PushResponse } from './messages/push.js';
export { PullRequestSchema, PullResponseSchema } from './messages/pull.js';
export type { PullRequest, PullResponse } from './messages/pull.js';
export {
  SubscribeRequestSchema,
  SubscribeResponseSchema,
  ScopeSubscriptionSchema,
  UnsubscribeRequestSchema,
  UnsubscribeResponseSchema,
} from './messages/subscribe.js';
export type {
  SubscribeRequest,
  SubscribeResponse,
  ScopeSubscription,
  UnsubscribeRequest,
  UnsubscribeResponse,
} from './messages/subscribe.js';
export { ChangesMessageSchema } from './messages/changes.js';
export type { ChangesMessage } from './messages/changes.js';
export { HistoryRequestSchema, HistoryResponseSchema, HistoryEntrySchema } from './messages/history.js';
export type { HistoryRequest, HistoryResponse, HistoryEntry } from './messages/history.js';
export { HashRequestSchema, HashResponseSchema } from './messages/scope-hash.js';
export type { HashRequest, HashResponse } from './messages/scope-hash.js';
export {
  MAX_TELEMETRY_SCOPES,
  TelemetryReportSchema,
  TelemetryResponseSchema,
} from './messages/telemetry.js';
export type { TelemetryReport, TelemetryResponse } from './messages/telemetry.js';
export { FeedChangeSchema, FeedLineSchema } from './messages/change-feed.js';
export type { FeedChange, FeedLine } from './messages/change-feed.js';
export {
  ServerWriteRequestSchema,
  ServerWriteResponseSchema,
  WriterStateResponseSchema,
} from './messages/server-write.js';
export type {
  ServerWriteRequest,
  ServerWriteResponse,
  WriterStateResponse,
} from './messages/server-write.js';
export { ReauthRequestSchema, ReauthResponseSchema, SessionEndedSchema } from './messages/reauth.js';
export type { ReauthRequest, ReauthResponse, SessionEnded } from './messages/reauth.js';
export {
  PresenceSetRequestSchema,
  PresenceSetResponseSchema,
  PresenceTabSchema,
} from './messages/presence-set.js';
export type { PresenceSetRequest, PresenceSetResponse } from './messages/presence-set.js';
export { PresenceLeaveRequestSchema, PresenceLeaveResponseSchema } from './messages/presence-leave.js';
export type { PresenceLeaveRequest, PresenceLeaveResponse } from './messages/presence-leave.js';
export { PresenceWatchRequestSchema, PresenceWatchResponseSchema } from './messages/presence-watch.js';
export type { PresenceWatchRequest, PresenceWatchResponse } from './messages/presence-watch.js';
export { PresenceEntrySchema, PresenceKeySchema, PresenceMessageSchema } from './messages/presence-update.js';
export type { PresenceEntry, PresenceKey, PresenceMessage } from './messages/presence-update.js';
export {
  QUERY_OPS,
  QueryClauseSchema,
  QueryOrderSchema,
  QueryRequestSchema,
  QueryResponseSchema,
  QueryRowSchema,
  QuerySourceErrorSchema,
} from './messages/query.js';
export type {
  QueryOp,
  QueryClause,
  QueryOrder,
  QueryRequest,
  QueryResponse,
  QueryRow,
  QuerySourceError,
} from './messages/query.js';
export { CLIENT_EVENTS } from './events.js';
export type { ClientToServerEvents, ServerToClientEvents, InboundEvents, ClientEventName } from './events.js';
export { applyMutation, applyPatch, applyInc } from './apply-mutation.js';
export type { ApplyOutcome } from './apply-mutation.js';
export { validateMessage, validatePushRequest } from './validate.js';
export type { Validated } from './validate.js';
export {
  SynclineConfigError,
  checkConfig,
  configFunction,
  configIssues,
  configObjectWith,
  showConfigValue,
} from './config-check.js';
export type { ConfigIssue } from './config-check.js';
