#!/usr/bin/env node
// Runs the compiled CLI (`pnpm build` first when working from a checkout).
import '../dist/cli.js';
