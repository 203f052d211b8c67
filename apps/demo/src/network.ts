// A device's network: its Online switch AND the browser's own network, through the library's
// `workOfflineSwitch` (online only when both are). The UI also reads the two apart, to say why a
// device is offline.
import {
  browserNetwork,
  workOfflineSwitch,
  type NetworkStatus,
  type WorkOfflineNetwork,
} from '@syncline/client';

export interface DeviceNetwork extends WorkOfflineNetwork {
  /** Where the device's Online switch stands (the person's intent). */
  isSwitchedOn(): boolean;
  /** Whether the browser has a network at all. */
  isBrowserOnline(): boolean;
}

/** `switchedOn`: the switch's position; `browser`: the platform's network (default `navigator.onLine`). */
export function deviceNetwork(switchedOn: boolean, browser: NetworkStatus = browserNetwork): DeviceNetwork {
  const network = workOfflineSwitch(switchedOn, browser);
  return {
    ...network,
    isSwitchedOn: () => network.manual.isOnline(),
    isBrowserOnline: () => browser.isOnline(),
  };
}
