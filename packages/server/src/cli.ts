// The `syncline-server` executable from source (bin/syncline-server.js runs the built package
// through `@syncline/server/cli`):
//   node --conditions=syncline-source --import tsx packages/server/src/cli.ts --help
import { runCli } from './cli/run-cli.js';

runCli();
