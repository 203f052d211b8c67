import { useCallback, useRef, useState } from 'react';
import { useSyncStatus } from '@syncline/client/react';
import { Board } from './board';
import { CardDetails } from './card-details';
import { ConflictInbox } from './conflict-inbox';
import type { Device } from './devices';
import { Inspector } from './inspector';
import { NewCardForm } from './new-card-form';
import { Rejections } from './rejections';
import { StatusBar } from './status-bar';

/** One simulated device: its own database, sync client, network switch and views. */
export function DevicePanel({ device }: { device: Device }) {
  const status = useSyncStatus();
  const [selected, setSelected] = useState<string | null>(null);
  const opener = useRef<HTMLElement | null>(null);
  const online = status?.online ?? device.network.isOnline();
  const headingId = `device-${device.key}-title`;

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
        <OnlineSwitch device={device} online={online} leader={status?.isLeader ?? false} />
      </header>
      <StatusBar device={device} />
      <ConflictInbox device={device} />
      <Rejections />
      <NewCardForm device={device} />
      <Board device={device} selected={selected} onOpen={open} />
      {selected !== null && <CardDetails key={selected} device={device} id={selected} onClose={close} />}
      <Inspector device={device} />
    </section>
  );
}

function OnlineSwitch({ device, online, leader }: { device: Device; online: boolean; leader: boolean }) {
  const id = `device-${device.key}-online`;
  return (
    <div className="switch-wrap">
      <input
        id={id}
        className="switch"
        type="checkbox"
        role="switch"
        checked={online}
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
