import { useSyncExternalStore } from 'react';
import type { Device } from './devices';

export interface DeviceNetworkState {
  /** The device's Online switch. */
  readonly switchedOn: boolean;
  /** The browser has a network (`navigator.onLine`). */
  readonly browserOnline: boolean;
}

/** Where a device's switch stands and whether the browser has a network, re-rendered on change. */
export function useDeviceNetwork(device: Device): DeviceNetworkState {
  const { network } = device;
  const subscribe = (cb: () => void) => network.subscribe(cb);
  const switchedOn = useSyncExternalStore(subscribe, () => network.isSwitchedOn());
  const browserOnline = useSyncExternalStore(subscribe, () => network.isBrowserOnline());
  return { switchedOn, browserOnline };
}
