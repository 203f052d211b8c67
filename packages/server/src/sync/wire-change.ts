import type { Change, RecordState } from '@syncline/protocol';
import type { StoredRecord } from '../storage/storage.js';

/** What a change carries on the wire; a record's latest state and a history entry both have it. */
export type ChangeSource = Pick<
  StoredRecord,
  'scope' | 'collection' | 'id' | 'version' | 'value' | 'clientId' | 'mid'
>;

/** A change as pulls and broadcasts carry it (the scope is implied by the message). */
export function toChange(r: ChangeSource): Change {
  return {
    collection: r.collection,
    id: r.id,
    version: r.version,
    value: r.value,
    clientId: r.clientId,
    mid: r.mid,
  };
}

/** A change with its scope, as `merged` and `conflict` results carry it. */
export function toRecordState(r: ChangeSource): RecordState {
  return { scope: r.scope, ...toChange(r) };
}
