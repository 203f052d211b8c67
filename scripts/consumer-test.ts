// `pnpm test:consumer`: proves the published packages work for an app outside this workspace.
// Packs @syncline/{protocol,client,server}, installs the tarballs with plain npm into a fresh
// project under the OS temp dir (no pg, no redis), type-checks it with `bundler` and `node16`
// resolution (skipLibCheck off), builds its Vite + React app, runs the `syncline-server` CLI and
// the project's own server, and in headless Chromium checks that a write on one page appears on
// another. Exits non-zero on any failure; prints the timing of every step.
//
// Set SYNCLINE_KEEP_CONSUMER=1 to keep the project directory; SYNCLINE_CONSUMER_REUSE=<that
// directory> reruns the steps after the install on it (with the fixture's files copied afresh).
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/browser/chromium-flags.js';
import { measureBundles } from './consumer-test-bundle-size.js';
import { consumerEnv, run, runOk, start, stopAll, stopAndWait } from './consumer-test-process.js';
import { checkTarball } from './consumer-test-tarball.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'scripts', 'consumer-fixture');
/** Fresh installs compile better-sqlite3 from source (about 75 s on an idle machine). */
const TOTAL_TIMEOUT_MS = 20 * 60_000;
const PACKAGES = ['@syncline/protocol', '@syncline/client', '@syncline/server'] as const;
/** What the consumer takes from the registry: the ranges the workspace's own demo uses. */
const REGISTRY = [
  'dexie@^4.4.7',
  'rxjs@^7.8.2',
  'react@^19.1.0',
  'react-dom@^19.1.0',
  'vite@^8.3.8',
  '@vitejs/plugin-react@^6.3.0',
  'typescript@~5.9.3',
  '@types/react@^19.0.0',
  '@types/react-dom@^19.0.0',
  '@types/node@^22.0.0',
];
const OPTIONAL_DRIVERS = [
  'pg',
  'redis',
  '@socket.io/postgres-adapter',
  '@socket.io/redis-streams-adapter',
  'amqplib',
  'nats',
];

const timings: [string, number][] = [];
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  process.stdout.write(`== ${name}\n`);
  const result = await fn();
  const ms = performance.now() - t0;
  timings.push([name, ms]);
  process.stdout.write(`   ${name}: ${(ms / 1000).toFixed(1)} s\n`);
  return result;
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

async function main(dir: string, reuse: boolean): Promise<void> {
  const tarballs = join(dir, 'tarballs');
  const app = join(dir, 'app');
  const env = consumerEnv();
  if (reuse) cpSync(FIXTURE, app, { recursive: true });
  else await packAndInstall(tarballs, app, env);

  await step('type-check (bundler + node16, skipLibCheck off)', async () => {
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    await runOk('node', [tsc, '-p', 'tsconfig.bundler.json'], { cwd: app, env, timeoutMs: 3 * 60_000 });
    // Also compiles server.ts to out/server.js.
    await runOk('node', [tsc, '-p', 'tsconfig.node16.json'], { cwd: app, env, timeoutMs: 3 * 60_000 });
  });

  await step('build (vite)', async () => {
    await runOk('node', [join(app, 'node_modules', 'vite', 'bin', 'vite.js'), 'build'], {
      cwd: app,
      env,
      timeoutMs: 3 * 60_000,
    });
  });

  await step('cli (installed bin)', () => checkCli(app, env));

  await step('e2e (server + two Chromium pages)', () => endToEnd(app, env));

  await step('bundle size (esbuild)', async () => {
    const sizes = await measureBundles(app);
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const row = (name: string, s: { minified: number; gzip: number }) =>
      `   ${name.padEnd(28)} ${kb(s.minified).padStart(10)} min ${kb(s.gzip).padStart(10)} gzip\n`;
    process.stdout.write(row('Dexie + React', sizes.plain));
    process.stdout.write(row('Dexie + React + Syncline', sizes.synced));
    process.stdout.write(
      row('added by Syncline', {
        minified: sizes.synced.minified - sizes.plain.minified,
        gzip: sizes.synced.gzip - sizes.plain.gzip,
      }),
    );
    check(
      sizes.extraZodLocales.length === 0,
      `the client bundle holds zod locales (is \`z\` imported by name?): ${sizes.extraZodLocales.slice(0, 3).join(', ')}…`,
    );
    process.stdout.write('   largest additions (minified):\n');
    for (const { path, bytes } of sizes.largestAdded)
      process.stdout.write(`     ${kb(bytes).padStart(10)}  ${path}\n`);
  });
}

async function packAndInstall(tarballs: string, app: string, env: NodeJS.ProcessEnv): Promise<void> {
  await step('pack', async () => {
    const filters = PACKAGES.flatMap((p) => ['--filter', p]);
    await runOk('npx', ['--yes', 'pnpm@10', ...filters, 'pack', '--pack-destination', tarballs], {
      cwd: ROOT,
      timeoutMs: 5 * 60_000,
    });
    for (const file of readdirSync(tarballs)) await checkTarball(join(tarballs, file));
  });
  const files = readdirSync(tarballs).map((f) => join(tarballs, f));
  check(files.length === PACKAGES.length, `expected ${PACKAGES.length} tarballs, got ${files.join(', ')}`);

  await step('install (npm, fresh project)', async () => {
    cpSync(FIXTURE, app, { recursive: true });
    writeFileSync(
      join(app, 'package.json'),
      `${JSON.stringify({ name: 'syncline-consumer', private: true, type: 'module' }, null, 2)}\n`,
    );
    await runOk('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files, ...REGISTRY], {
      cwd: app,
      env,
      timeoutMs: 12 * 60_000,
    });
    for (const name of OPTIONAL_DRIVERS) {
      check(
        !existsSync(join(app, 'node_modules', name)),
        `${name} was installed, but it is an optional peer`,
      );
    }
  });
}

/** The installed `syncline-server` bin: help, a SQLite server that starts and stops, and --postgres without pg. */
async function checkCli(app: string, env: NodeJS.ProcessEnv): Promise<void> {
  const bin = join(app, 'node_modules', '.bin', 'syncline-server');
  const help = await runOk(bin, ['--help'], { cwd: app, env, timeoutMs: 30_000 });
  check(help.stdout.includes('--postgres'), '--help does not list --postgres');

  const noPg = await run(bin, ['--postgres', 'postgres://127.0.0.1:1/none'], {
    cwd: app,
    env,
    timeoutMs: 30_000,
  });
  check(noPg.code === 1, `--postgres without pg exited with ${noPg.code}`);
  check(
    noPg.stderr.includes('npm install pg@8 @socket.io/postgres-adapter@0.5') &&
      !noPg.stderr.includes('    at '),
    `--postgres without pg should name the install line (and print no stack):\n${noPg.stderr}`,
  );

  // A broker sink whose driver is not installed stops the start with the install line.
  const sinkConfig = join(app, 'sink.config.mjs');
  writeFileSync(
    sinkConfig,
    "export default { sinks: [{ name: 'out', kind: 'rabbitmq', url: 'amqp://127.0.0.1:1', exchange: 'x' }] };\n",
  );
  const noAmqp = await run(bin, ['--db', join(app, 'sink.db'), '--port', '0', '--config', sinkConfig], {
    cwd: app,
    env,
    timeoutMs: 30_000,
  });
  check(
    noAmqp.code === 1 &&
      noAmqp.stderr.includes('npm install amqplib@2') &&
      !noAmqp.stderr.includes('    at '),
    `a RabbitMQ sink without amqplib should exit 1 naming the install line:\n${noAmqp.stderr}`,
  );

  const server = start(bin, ['--db', join(app, 'cli.db'), '--port', '0'], { cwd: app, env });
  let log = '';
  server.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const output = () => log.trim().split('\n').slice(-10).join('\n');
  const ready = await firstLine(server.stdout, (l) => l.includes('"ready"'), 30_000);
  check(/http:\/\/127\.0\.0\.1:\d+/.test(ready), `no URL in the ready line: ${ready}`);
  const ended = await stopAndWait(server);
  check(ended === 'exit 0', `syncline-server on SIGTERM: ${ended}, want exit 0\n${output()}`);
}

async function endToEnd(app: string, env: NodeJS.ProcessEnv): Promise<void> {
  const server = start('node', [join(app, 'out', 'server.js'), join(app, 'e2e.db')], { cwd: app, env });
  let browser: Browser | undefined;
  let passed = false;
  try {
    const line = await firstLine(server.stdout, (l) => l.startsWith('consumer-server '), 30_000);
    const { url, missingDependency } = JSON.parse(line.slice('consumer-server '.length)) as {
      url: string;
      missingDependency: string;
    };
    check(missingDependency === 'npm install pg@8', `PostgresStorage without pg: ${missingDependency}`);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
      timeout: 30_000,
    });
    const errors: string[] = [];
    const open = async (device: string): Promise<Page> => {
      const page = await (await browser!.newContext()).newPage();
      page.on('pageerror', (err) => errors.push(`${device}: ${err.message}`));
      await page.goto(`${url}/?device=${device}`);
      await page.locator('#text').waitFor({ timeout: 30_000 });
      return page;
    };
    const [a, b] = [await open('a'), await open('b')];
    const write = async (page: Page, text: string) => {
      await page.locator('#text').fill(text);
      await page.getByRole('button', { name: 'Add' }).click();
    };
    await write(a, 'written on page A');
    await b.locator('#notes li', { hasText: 'written on page A' }).waitFor({ timeout: 30_000 });
    await write(b, 'written on page B');
    await a.locator('#notes li', { hasText: 'written on page B' }).waitFor({ timeout: 30_000 });
    check(errors.length === 0, `page errors:\n${errors.join('\n')}`);
    passed = true;
  } finally {
    await browser?.close();
    const ended = await stopAndWait(server);
    // After a failure the server may be stopped before it handles signals: that error stands.
    if (passed) check(ended === 'exit 0', `the consumer's server on SIGTERM: ${ended}, want exit 0`);
  }
}

/** The first line of a stream that `match` accepts, within `timeoutMs`. */
function firstLine(
  stream: NodeJS.ReadableStream | null,
  match: (line: string) => boolean,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!stream) return reject(new Error('no stdout'));
    let buffered = '';
    const timer = setTimeout(
      () => reject(new Error(`no matching line within ${timeoutMs} ms:\n${buffered}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const line = buffered.split('\n').find((l) => match(l));
      if (line === undefined) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve(line);
    };
    stream.on('data', onData);
    stream.once('end', () => {
      clearTimeout(timer);
      reject(new Error(`the process ended before printing the expected line:\n${buffered}`));
    });
  });
}

const reuse = process.env['SYNCLINE_CONSUMER_REUSE'];
const dir = reuse ?? mkdtempSync(join(tmpdir(), 'syncline-consumer-'));
const t0 = performance.now();
const deadline = setTimeout(() => {
  process.stderr.write(
    `consumer test: FAILED, over its ${TOTAL_TIMEOUT_MS / 60_000} min budget (kept ${dir})\n`,
  );
  stopAll();
  process.exit(1);
}, TOTAL_TIMEOUT_MS);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopAll();
    process.exit(1);
  });
}

try {
  await main(dir, reuse !== undefined);
  const summary = timings.map(([name, ms]) => `${name.split(' ')[0]} ${(ms / 1000).toFixed(1)} s`).join(', ');
  process.stdout.write(
    `consumer test: PASS in ${((performance.now() - t0) / 1000).toFixed(1)} s (${summary})\n`,
  );
  if (process.env['SYNCLINE_KEEP_CONSUMER'] !== '1' && reuse === undefined)
    rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`kept ${dir}\n`);
} catch (err) {
  process.stderr.write(
    `consumer test: FAILED: ${err instanceof Error ? err.message : String(err)}\n(kept ${dir})\n`,
  );
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  stopAll();
}
