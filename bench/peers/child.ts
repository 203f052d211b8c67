/**
 * The child side of `startPeer` (../processes.ts): announce readiness over IPC, answer calls,
 * and exit on SIGTERM or when the parent goes away, so no peer outlives the suite.
 */
export type CallHandler = (cmd: { type: string } & Record<string, unknown>) => Promise<unknown>;

export function ready(port: number, onCall?: CallHandler, onStop?: () => Promise<void> | void): void {
  const send = (msg: unknown) => process.send?.(msg);
  process.on('message', (raw) => {
    const cmd = raw as { id: number; type: string } & Record<string, unknown>;
    if (!onCall) return send({ type: 'reply', id: cmd.id, error: 'this peer takes no calls' });
    onCall(cmd).then(
      (result) => send({ type: 'reply', id: cmd.id, result: result ?? null }),
      (err: unknown) =>
        send({ type: 'reply', id: cmd.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Never hang on a close handshake: the parent SIGKILLs after 3 s anyway.
    setTimeout(() => process.exit(0), 1_000).unref();
    void Promise.resolve(onStop?.()).finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  send({ type: 'ready', port });
}

/** Wall-clock milliseconds with sub-ms resolution, comparable across processes on one machine. */
export const wallMs = (): number => performance.timeOrigin + performance.now();
