import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/sequencer.js';

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript sources under this condition: no build step
    // is needed to test.
    conditions: ['syncline-source'],
  },
  ssr: {
    resolve: {
      conditions: ['syncline-source'],
      externalConditions: ['syncline-source'],
    },
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.{ts,tsx}',
      'test/**/*.test.{ts,tsx}',
      'chaos/**/*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Probes PostgreSQL/Redis on their default local ports and says which suites are skipped.
    globalSetup: ['test/global-setup.ts'],
    // Vitest defaults to one worker per core minus one: a single worker on a 2-core machine.
    // Two workers took a third less time there; three were no faster than two (see
    // CONTRIBUTING, "The test command"). `--maxWorkers` overrides it.
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
  },
});
