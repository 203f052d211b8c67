import { afterAll, describe, it } from 'vitest';
import { runSeed } from '@syncline/test-support';
import { PG_URL } from '@syncline/test-support/databases';
import { ClusterRun } from '../helpers/cluster-run.js';

const seed = runSeed();
let run: ClusterRun | undefined;
afterAll(async () => {
  await run?.cleanup();
}, 60_000);

describe.skipIf(!PG_URL)('cluster run: 3 nodes on PostgreSQL, LISTEN/NOTIFY fan-out, one SIGKILLed', () => {
  it(
    'every client converges to the database; no acknowledged write lost, none applied twice',
    { timeout: 120_000 },
    async () => {
      console.log(`cluster-run.test: SYNCLINE_SEED=${seed}`);
      run = new ClusterRun({ pgUrl: PG_URL!, seed });
      await run.run();
    },
  );
});
