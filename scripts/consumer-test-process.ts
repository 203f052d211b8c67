// Child processes of the consumer test: bounded in time, and every one stopped on the way out.
import { spawn, type ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();

/**
 * The environment for a consumer's tools: without what `pnpm run` adds (`npm_config_*` would
 * steer the consumer's plain `npm` with the workspace's settings), without Node options that
 * would resolve Syncline's sources instead of the installed packages, and without the
 * `SYNCLINE_*` variables CI sets for the PostgreSQL/Redis suites (the installed CLI reads them,
 * so `--postgres` would also pick up Redis and ask for other packages than the test expects).
 */
export function consumerEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    const k = key.toLowerCase();
    if (k.startsWith('npm_') || k.startsWith('pnpm_') || k.startsWith('syncline_')) continue;
    if (k === 'node_options' || k === 'init_cwd') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (or kills it after `timeoutMs`); resolves whatever its exit code. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = start(cmd, args, opts);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stop(child, 'SIGKILL');
      reject(
        new Error(`${cmd} ${args.join(' ')}: no exit within ${opts.timeoutMs} ms\n${tail(stdout, stderr)}`),
      );
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like `run`, but a non-zero exit is an error showing the end of the output. */
export async function runOk(
  cmd: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly timeoutMs: number; readonly env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const res = await run(cmd, args, opts);
  if (res.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${res.code}\n${tail(res.stdout, res.stderr)}`);
  }
  return res;
}

/** Starts a long-running process (a server); `stopAll` ends it if the caller does not. */
export function start(
  cmd: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv },
): ChildProcess {
  // Its own process group, so that stopping it also stops what it started (npm → node-gyp → make).
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? consumerEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** Signals a child's whole process group. */
export function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** How a child ended: its exit code, or the signal that ended it. */
export type Ending = string;

/** Sends SIGTERM and resolves how the child ended (SIGKILL after `graceMs`). */
export function stopAndWait(child: ChildProcess, graceMs = 10_000): Promise<Ending> {
  const ending = (code: number | null, signal: NodeJS.Signals | null): Ending =>
    code !== null ? `exit ${code}` : `signal ${signal}`;
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(ending(child.exitCode, child.signalCode));
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => stop(child, 'SIGKILL'), graceMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(ending(code, signal));
    });
    stop(child, 'SIGTERM');
  });
}

/** Kills every child still running (on failure, timeout or an interrupt). */
export function stopAll(): void {
  for (const child of children) stop(child, 'SIGKILL');
  children.clear();
}

function tail(stdout: string, stderr: string): string {
  const last = (s: string) => s.trim().split('\n').slice(-30).join('\n');
  return `--- stdout (end)\n${last(stdout)}\n--- stderr (end)\n${last(stderr)}`;
}
