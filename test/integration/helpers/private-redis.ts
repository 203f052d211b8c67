import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort } from '@syncline/test-support';

/** A throwaway Redis of this test's own, to kill and restart (the machine's one is shared). */
export interface PrivateRedis {
  readonly url: string;
  /** SIGKILLs it: connections drop, nothing is saved. */
  kill(): Promise<void>;
  /** Starts it again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Kills it if it runs. Safe to call more than once. */
  destroy(): Promise<void>;
}

/** Starts `redis-server` on a free port: no persistence, 127.0.0.1 only. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc = child;
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`redis-server did not start in 10 s: ${output}`));
      }, 10_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        output += `${line}\n`;
        if (line.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited before it was ready: ${output}`));
      });
    });
  };
  const kill = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, kill, start, destroy: kill };
}
