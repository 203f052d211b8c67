// fake-indexeddb first: Dexie must see it when it loads.
import 'fake-indexeddb/auto';

export { storeDb, trackedDb, wavesOf, type TrackedTx, type TxLife } from './tracked-db.js';
