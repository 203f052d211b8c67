import { browserNetwork, ManualNetwork, type NetworkStatus } from './environment.js';

/**
 * A network status that is online only while every one of `statuses` is: e.g. the platform's
 * (`browserNetwork`) and an app's own "work offline" switch (`ManualNetwork`). Subscribers hear
 * of a change of any of them.
 */
export function combineNetworks(...statuses: readonly NetworkStatus[]): NetworkStatus {
  return {
    isOnline: () => statuses.every((s) => s.isOnline()),
    subscribe(cb) {
      const unsubscribes = statuses.map((s) => s.subscribe(cb));
      return () => {
        for (const u of unsubscribes) u();
      };
    },
  };
}

/** The real network combined with a manual switch (see `workOfflineSwitch`). */
export interface WorkOfflineNetwork extends NetworkStatus {
  /** The app's switch: `false` works offline whatever the network says. */
  readonly manual: ManualNetwork;
  /** Sets the app's switch (the real network still has to be up for `isOnline()`). */
  set(online: boolean): void;
}

/**
 * The network status for an app with a "work offline" switch: offline when the platform says so
 * (`navigator.onLine`, `online`/`offline` events) or when the switch is off. Pass it as the
 * client's `network` option and call `set(false)` / `set(true)` from the switch.
 */
export function workOfflineSwitch(
  initiallyOnline = true,
  platform: NetworkStatus = browserNetwork,
): WorkOfflineNetwork {
  const manual = new ManualNetwork(initiallyOnline);
  const combined = combineNetworks(platform, manual);
  return {
    manual,
    isOnline: () => combined.isOnline(),
    subscribe: (cb) => combined.subscribe(cb),
    set: (online) => manual.set(online),
  };
}
