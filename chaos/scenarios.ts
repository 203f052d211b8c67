import { nodeKill, postgresRestart, redisRestart } from './cluster.js';
import { faultProxy } from './fault-proxy.js';
import { leaderFrozenScenario, pageCloseScenario, quotaScenario } from './browser/scenarios.js';
import type { Scenario } from './scenario.js';
import { postgresKill, sqliteKill } from './server-kill.js';

/** Every scenario, in the order the runner runs them. */
export const SCENARIOS: readonly Scenario[] = [
  sqliteKill,
  postgresKill,
  faultProxy,
  nodeKill,
  postgresRestart,
  redisRestart,
  pageCloseScenario,
  leaderFrozenScenario,
  quotaScenario,
];
