#!/usr/bin/env node
// Runs the compiled CLI through the package's own `@syncline/server/cli` entry (`pnpm build`
// first when working from a checkout).
import { runCli } from '@syncline/server/cli';

runCli();
