/** A real Syncline server for tests, a raw protocol client, and server-side faults. */
export { newClientId, pullAll, startServer, TestClient } from './harness.js';
export type { MutationInput, RunningServer, TestSocket } from './harness.js';
export { FaultyStorage } from './faulty-storage.js';
export type { CommitOutcome, FaultTiming } from './faulty-storage.js';
export { dropNextBroadcast, socketIdsOf } from './server-faults.js';
