import { useEffect, useState } from 'react';
import { useSyncStatus } from '@syncline/client/react';
import type { SyncStatus } from '@syncline/client';
import type { Device } from './devices';
import { formatWhen } from './format';
import { useDeviceNetwork, type DeviceNetworkState } from './use-device-network';

type Tone = 'ok' | 'busy' | 'off' | 'warn';

function connection(s: SyncStatus | undefined): { text: string; tone: Tone } {
  if (s === undefined) return { text: 'Starting…', tone: 'busy' };
  if (!s.isLeader) return { text: 'Synced by another tab', tone: 'busy' };
  if (!s.online) return { text: 'Offline', tone: 'off' };
  if (s.connected && s.phase === 'live') return { text: 'Online', tone: 'ok' };
  if (s.connected) return { text: 'Syncing…', tone: 'busy' };
  if (s.phase === 'backoff') return { text: 'Reconnecting…', tone: 'warn' };
  return { text: 'Connecting…', tone: 'busy' };
}

/** Why the device is offline, or the last error while it cannot sync; '' when there is nothing to say. */
function detail(s: SyncStatus | undefined, net: DeviceNetworkState, tone: Tone): string {
  if (s === undefined || !s.isLeader) return '';
  if (!net.browserOnline) return 'no network';
  if (!net.switchedOn) return 'switched off';
  return s.lastError && tone !== 'ok' ? s.lastError.message : '';
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

interface StatusBarProps {
  device: Device;
  /** The conflict inbox drawer is open. */
  inboxOpen: boolean;
  onToggleInbox: () => void;
}

/**
 * Connection, pending changes, conflicts, last sync and initial-sync progress of one device.
 * The status line is two unbreakable pieces (the connection pill and the counts), so a narrow
 * panel puts the counts under the pill instead of breaking them into fragments.
 */
export function StatusBar({ device, inboxOpen, onToggleInbox }: StatusBarProps) {
  const s = useSyncStatus();
  const net = useDeviceNetwork(device);
  const conn = connection(s);
  const lastSynced = useLastSynced(device, s?.lastSyncedAt ?? null);
  const pending = s?.pending ?? 0;
  const conflicts = s?.conflicts ?? 0;
  const why = detail(s, net, conn.tone);
  const when = lastSynced !== null ? formatWhen(lastSynced) : 'never';
  return (
    <div className={`status-bar tone-${conn.tone}`}>
      <p className="status-line" role="status" aria-label={`${device.name} sync status`}>
        <span className="conn">
          <span className="dot" aria-hidden="true" />
          <strong>{conn.text}</strong>
        </span>
        {/* Read as one sentence; on screen the pill itself separates. */}
        <span className="sep sep-conn" aria-hidden="true">
          {' · '}
        </span>
        <span className="counts">
          <span className={pending > 0 ? 'pending has-pending' : 'pending'}>
            {plural(pending, 'change', 'changes')} pending
          </span>
          <span className="sep" aria-hidden="true">
            {' · '}
          </span>
          {conflicts > 0 ? (
            <button
              type="button"
              id={`device-${device.key}-conflicts`}
              className="conflicts has-conflicts"
              aria-expanded={inboxOpen}
              aria-controls={`device-${device.key}-inbox`}
              onClick={onToggleInbox}
            >
              {plural(conflicts, 'conflict', 'conflicts')}
            </button>
          ) : (
            <span className="conflicts">0 conflicts</span>
          )}
        </span>
      </p>
      <p className="last-synced" title={`Last synced ${when}${why === '' ? '' : ` · ${why}`}`}>
        Last synced{' '}
        {lastSynced !== null ? <time dateTime={new Date(lastSynced).toISOString()}>{when}</time> : when}
        {why !== '' && <span className="last-error"> · {why}</span>}
      </p>
      <InitialSync device={device} status={s} />
    </div>
  );
}

function InitialSync({ device, status }: { device: Device; status: SyncStatus | undefined }) {
  // `initialSync` counts versions across the device's scopes, with a ready-made fraction; a copy
  // synced in an earlier session (or by another tab) reports done at once.
  const progress = status?.initialSync;
  const id = `device-${device.key}-initial`;
  let text: string;
  if (progress?.done === true) text = 'done';
  else if (progress && progress.total > 0) text = `${progress.pulled} of ${progress.total} versions`;
  else text = status?.online === false ? 'waiting for the network' : 'waiting for the server';
  return (
    <div className="initial-sync">
      <label htmlFor={id}>Initial sync: {text}</label>
      {progress && (progress.done || progress.total > 0) ? (
        <progress id={id} value={progress.fraction} max={1} />
      ) : (
        <progress id={id} />
      )}
    </div>
  );
}

/**
 * The engine's last-synced time lives as long as the page; the demo remembers it per device so
 * a reloaded offline device still says when it last talked to the server.
 */
function useLastSynced(device: Device, current: number | null): number | null {
  const key = `${device.db.name}:lastSynced`;
  const [stored] = useState(() => {
    try {
      const v = Number(localStorage.getItem(key));
      return Number.isFinite(v) && v > 0 ? v : null;
    } catch {
      return null;
    }
  });
  useEffect(() => {
    if (current === null) return;
    try {
      localStorage.setItem(key, String(current));
    } catch {
      // Not remembered: only the reload case shows "never".
    }
  }, [key, current]);
  return current ?? stored;
}
