import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { createDevices, seedEmptyBoard, settleLeadership } from './devices';
import './styles.css';

async function boot(root: HTMLElement): Promise<void> {
  // The sync server is the server this page came from (same origin: no CORS needed).
  const devices = createDevices(location.origin);
  await Promise.all(devices.map((d) => d.sync.start()));
  // Render once each device knows whether this tab syncs it: no "another tab" flash at boot.
  await Promise.all(devices.map((d) => settleLeadership(d)));
  createRoot(root).render(
    <StrictMode>
      <App devices={devices} />
    </StrictMode>,
  );
  if (devices[0]) await seedEmptyBoard(devices[0]);
}

const root = document.getElementById('root');
if (root) {
  boot(root).catch((error: unknown) => {
    console.error(error);
    const p = document.createElement('p');
    p.className = 'boot boot-error';
    p.setAttribute('role', 'alert');
    p.textContent = `The demo could not start: ${error instanceof Error ? error.message : String(error)}`;
    root.replaceChildren(p);
  });
}
