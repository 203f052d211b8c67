import { useCallback, useEffect, useRef, useState } from 'react';
import { useSyncStatus } from '@syncline/client/react';
import { Board } from './board';
import { CardDetails } from './card-details';
import { ConflictInbox } from './conflict-inbox';
import type { Device } from './devices';
import { Inspector } from './inspector';
import { NewCardForm } from './new-card-form';
import { Rejections } from './rejections';
import { StatusBar } from './status-bar';
import { useDeviceNetwork } from './use-device-network';

/** One simulated device: its own database, sync client, network switch and views. */
export function DevicePanel({ device }: { device: Device }) {
  const status = useSyncStatus();
  const [selected, setSelected] = useState<string | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const net = useDeviceNetwork(device);
  const online = status?.online ?? device.network.isOnline();
  const headingId = `device-${device.key}-title`;
  const [inboxOpen, setInboxOpen] = useState(false);
  const conflicts = status?.conflicts ?? 0;
  // The last conflict resolved: the drawer closes (and opens closed next time).
  useEffect(() => {
    if (conflicts === 0) setInboxOpen(false);
  }, [conflicts]);
  const closeInbox = useCallback(() => {
    setInboxOpen(false);
    document.getElementById(`device-${device.key}-conflicts`)?.focus();
  }, [device.key]);

  const open = useCallback((id: string) => {
    opener.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    setSelected(id);
  }, []);
  const close = useCallback(() => {
    setSelected(null);
    opener.current?.focus();
  }, []);

  return (
    <section
      id={`device-${device.key}`}
      className={online ? 'device' : 'device is-offline'}
      aria-labelledby={headingId}
    >
      <header className="device-header">
        <div>
          <h2 id={headingId}>{device.name}</h2>
          <p className="device-user">
            {device.user}&apos;s device · database <code>{device.db.name}</code>
          </p>
        </div>
        <OnlineSwitch device={device} switchedOn={net.switchedOn} leader={status?.isLeader ?? true} />
      </header>
      {/* The inbox drawer is anchored under the status bar and overlays what follows. */}
      <div className="status-wrap">
        <StatusBar device={device} inboxOpen={inboxOpen} onToggleInbox={() => setInboxOpen((o) => !o)} />
        <ConflictInbox device={device} open={inboxOpen} onClose={closeInbox} />
      </div>
      <Rejections />
      <NewCardForm device={device} />
      <Board device={device} selected={selected} onOpen={open} />
      {selected !== null && <CardDetails key={selected} device={device} id={selected} onClose={close} />}
      <Inspector device={device} />
    </section>
  );
}

interface OnlineSwitchProps {
  device: Device;
  /** The switch's own position: the browser's network does not move it. */
  switchedOn: boolean;
  /** False only once the status says another tab syncs (main.tsx renders after the election). */
  leader: boolean;
}

function OnlineSwitch({ device, switchedOn, leader }: OnlineSwitchProps) {
  const id = `device-${device.key}-online`;
  return (
    <div className="switch-wrap">
      <input
        id={id}
        className="switch"
        type="checkbox"
        role="switch"
        checked={switchedOn}
        disabled={!leader}
        aria-describedby={leader ? undefined : `${id}-why`}
        onChange={(e) => device.setOnline(e.currentTarget.checked)}
      />
      <label htmlFor={id}>Online</label>
      {!leader && (
        <span id={`${id}-why`} className="hint">
          Another tab syncs this device
        </span>
      )}
    </div>
  );
}
