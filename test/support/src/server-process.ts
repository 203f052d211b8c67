import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The CLI's source (run through tsx), so a test needs no build.
const CLI = fileURLToPath(new URL('../../../packages/server/src/cli.ts', import.meta.url));

export interface ServerProcess {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly port: number;
  /** Every stdout line the process printed so far. */
  readonly lines: string[];
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
}

/**
 * This process's environment without the variables that select a storage or fan-out: CI sets
 * `SYNCLINE_PG_URL`/`SYNCLINE_REDIS_URL` for the tests that want them, and the CLI would read
 * them too. A spawned server uses what its test passes, as flags or in `env`.
 */
function inheritedEnv(): NodeJS.ProcessEnv {
  const { SYNCLINE_PG_URL: _pg, SYNCLINE_REDIS_URL: _redis, ...rest } = process.env;
  return rest;
}

/**
 * Spawns the real `syncline-server` CLI (from source, through tsx) and waits until it is ready
 * (`readyTimeoutMs`, default 20 s; a loaded machine may need more).
 */
export async function spawnServer(
  args: string[],
  env: Record<string, string> = {},
  options: { readyTimeoutMs?: number } = {},
): Promise<ServerProcess> {
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;
  const proc = spawn(process.execPath, ['--conditions=syncline-source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Never leave a half-started server behind.
      proc.kill('SIGKILL');
      reject(new Error(`server not ready in ${readyTimeoutMs / 1000}s; stderr: ${stderr}`));
    }, readyTimeoutMs);
    createInterface({ input: proc.stdout }).on('line', (line) => {
      lines.push(line);
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'ready' && entry.url) {
        clearTimeout(timer);
        resolve({ url: entry.url, port: Number(new URL(entry.url).port) });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before ready; stderr: ${stderr}`));
    });
  });
  const { url, port } = await ready;
  return { proc, url, port, lines, exited };
}

/** Runs the CLI to completion (for --help and bad flags). */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--conditions=syncline-source', '--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...inheritedEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
}
