/**
 * `pnpm test` starts the Chromium install in the background (`scripts/ensure-browser.sh
 * --background`) so that apt runs while the Node tests do. The browser tests wait here, when
 * their module loads (outside any test or hook timeout), until the install has finished; a
 * failed install fails them with apt's output. They never skip.
 */
import { existsSync, readFileSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM_PATH } from './chromium-flags.js';

const STATE = process.env['SYNCLINE_CHROMIUM_INSTALL_DIR'] ?? join(tmpdir(), 'syncline-chromium-install');
/** apt on a slow mirror; far above the usual 2–3 minutes. */
const MAX_WAIT_MS = 15 * 60_000;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function alive(pidFile: string): boolean {
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 0);
    return true;
  } catch {
    return false;
  }
}

function logTail(): string {
  try {
    return readFileSync(join(STATE, 'log'), 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves once Chromium is installed, or at once when no install is under way. */
export async function waitForChromiumInstall(): Promise<void> {
  if (executable(CHROMIUM_PATH) || !existsSync(join(STATE, 'pid'))) return;
  const started = Date.now();
  let said = 0;
  for (;;) {
    const statusFile = join(STATE, 'status');
    if (existsSync(statusFile)) {
      const status = readFileSync(statusFile, 'utf8').trim();
      if (status === '0' && executable(CHROMIUM_PATH)) return;
      throw new Error(
        `installing Chromium failed (apt exit ${status}); the end of ${STATE}/log:\n${logTail()}`,
      );
    }
    if (!alive(join(STATE, 'pid'))) {
      throw new Error(
        `the Chromium install stopped without a result; the end of ${STATE}/log:\n${logTail()}`,
      );
    }
    const waited = Date.now() - started;
    if (waited > MAX_WAIT_MS) throw new Error(`the Chromium install took over 15 minutes; see ${STATE}/log`);
    if (waited - said >= 15_000) {
      said = waited;
      process.stderr.write(
        `syncline: the browser tests wait for the Chromium install (${Math.round(waited / 1000)} s)\n`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
