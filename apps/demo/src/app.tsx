import { SynclineProvider } from '@syncline/client/react';
import { AppUpdates } from './app-updates';
import { DevicePanel } from './device-panel';
import type { Device } from './devices';
import { DevicesContext } from './devices-context';

export function App({ devices }: { devices: readonly Device[] }) {
  return (
    <DevicesContext.Provider value={devices}>
      <a className="skip-link" href={`#device-${devices[0]?.key ?? 'a'}`}>
        Skip to the board
      </a>
      <header className="app-header">
        <div>
          <h1>
            Team board <span className="brand">Syncline demo</span>
          </h1>
          <p className="lede">
            Two devices, one board. Each device keeps its own copy in the browser and syncs through the
            server. Switch a device <strong>offline</strong>, change cards on both, switch it back on and
            watch them agree. Clashing edits wait in that device&apos;s <strong>conflict inbox</strong>.
          </p>
        </div>
        <div className="join">
          <a href={location.href} target="_blank" rel="noopener">
            Open the board in another tab
          </a>
          <span className="hint">A private window is a brand-new device.</span>
          <AppUpdates />
        </div>
      </header>
      <main className="devices">
        {devices.map((device) => (
          <SynclineProvider key={device.key} client={device.sync}>
            <DevicePanel device={device} />
          </SynclineProvider>
        ))}
      </main>
      <footer className="app-footer">
        <p>
          The demo server resolves concurrent card edits with the <code>manual</code> strategy, so every clash
          is shown to you instead of being merged silently. Likes are increments: they always add up.
        </p>
      </footer>
    </DevicesContext.Provider>
  );
}
