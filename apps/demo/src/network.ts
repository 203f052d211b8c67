// A device's network: its Online switch AND the browser's own network. The engine sees one
// `NetworkStatus` (the library's interface), online only when both are; the UI reads them apart
// to say why a device is offline. (To be replaced by the client library's helper that combines
// a manual switch with its `navigator.onLine` network, once it ships.)
import { browserNetwork, ManualNetwork, type NetworkStatus } from '@syncline/client';

export class DeviceNetwork implements NetworkStatus {
  readonly #switch: ManualNetwork;
  readonly #browser: NetworkStatus;

  /** `switchedOn`: the switch's position; `browser`: the platform's network (default `navigator.onLine`). */
  constructor(switchedOn: boolean, browser: NetworkStatus = browserNetwork) {
    this.#switch = new ManualNetwork(switchedOn);
    this.#browser = browser;
  }

  isOnline(): boolean {
    return this.#switch.isOnline() && this.#browser.isOnline();
  }

  /** Where the device's Online switch stands (the person's intent). */
  isSwitchedOn(): boolean {
    return this.#switch.isOnline();
  }

  /** Whether the browser has a network at all. */
  isBrowserOnline(): boolean {
    return this.#browser.isOnline();
  }

  /** Moves the switch; the device is online when the browser has a network too. */
  set(switchedOn: boolean): void {
    this.#switch.set(switchedOn);
  }

  subscribe(cb: () => void): () => void {
    const offSwitch = this.#switch.subscribe(cb);
    const offBrowser = this.#browser.subscribe(cb);
    return () => {
      offSwitch();
      offBrowser();
    };
  }
}
