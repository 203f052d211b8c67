// Globals shared by the harness (Node side, inside page.evaluate callbacks) and fixtures (browser).
export {};

declare global {
  interface Window {
    /** Set by the test server's page before the bundle runs: the sync server URL, if any. */
    __SYNCLINE_URL__: string | undefined;
    /** Set by a fixture when it is done; `waitForResult` waits for it. */
    __result?: unknown;
  }
}
