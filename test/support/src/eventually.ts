/** Polls `check` every `everyMs` until it returns true; throws `message` at the deadline. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  message: string,
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${message} (not within ${timeoutMs}ms)`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
