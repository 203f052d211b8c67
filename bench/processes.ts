/**
 * Child processes of the suite: every server, peer and load generator runs in its own process
 * on 127.0.0.1. Each is registered here by pid so the runner can stop whatever a timed-out
 * benchmark left behind; a benchmark stops its own children in `finally`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnServer } from '@syncline/test-support';

const live = new Map<number, ChildProcess>();
const BENCH_DIR = fileURLToPath(new URL('./', import.meta.url));

/** A child started with `startPeer`: it talks to us over the IPC channel. */
export interface Peer {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The TCP port it listens on (0 for clients that listen on nothing). */
  readonly port: number;
  /** Sends a command and resolves with the child's reply (`{ id, ...result }`). */
  call<R = unknown>(cmd: Record<string, unknown>, timeoutMs?: number): Promise<R>;
  stop(): Promise<void>;
}

let nextCall = 0;

/**
 * Forks `bench/peers/<script>.ts` through tsx and waits for its `{ type: 'ready', port }` message.
 * Replies to `call` are `{ type: 'reply', id, result }` or `{ type: 'reply', id, error }`.
 */
export async function startPeer(script: string, args: string[] = [], readyMs = 30_000): Promise<Peer> {
  const proc = fork(`${BENCH_DIR}peers/${script}.ts`, args, {
    cwd: BENCH_DIR,
    execArgv: ['--conditions=syncline-source', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pid = proc.pid;
  if (pid === undefined) throw new Error(`could not start ${script}`);
  live.set(pid, proc);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => live.delete(pid));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill(pid);
      reject(new Error(`${script} not ready in ${readyMs} ms`));
    }, readyMs);
    proc.on('message', (raw) => {
      const msg = raw as { type: string; port?: number; id?: number; result?: unknown; error?: string };
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve(msg.port ?? 0);
      } else if (msg.type === 'reply' && msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error !== undefined) p?.reject(new Error(`${script}: ${msg.error}`));
        else p?.resolve(msg.result);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${script} exited before ready`));
      for (const p of pending.values()) p.reject(new Error(`${script} exited`));
    });
  });
  return {
    proc,
    pid,
    port,
    call<R>(cmd: Record<string, unknown>, timeoutMs = 60_000): Promise<R> {
      const id = ++nextCall;
      return new Promise<R>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${script}: ${String(cmd['type'])} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as R);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        proc.send({ ...cmd, id });
      });
    },
    stop: () => stopProcess(proc),
  };
}

/** The real `syncline-server` CLI with `args` (storage flags, config), on an ephemeral port. */
export async function startSyncline(args: readonly string[]) {
  // `ready` is logged at info; nothing per push or per connection is logged at that level.
  const server = await spawnServer(['--port', '0', '--log-level', 'info', ...args]);
  const pid = server.proc.pid!;
  live.set(pid, server.proc);
  void server.exited.then(() => live.delete(pid));
  return { url: server.url, port: server.port, pid, stop: () => stopProcess(server.proc) };
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone. */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 3_000);
  await gone;
  clearTimeout(timer);
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills every child still registered (after a benchmark timed out). */
export async function killAll(): Promise<number> {
  const procs = [...live.values()];
  await Promise.all(procs.map((p) => stopProcess(p)));
  return procs.length;
}

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}
