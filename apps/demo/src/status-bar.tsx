import { useEffect, useState } from 'react';
import { useLiveQuery, useSyncStatus } from '@syncline/client/react';
import type { SyncStatus } from '@syncline/client';
import type { Device } from './devices';
import { formatWhen } from './format';
import { SCOPE } from './model';
import { scopeRows } from './sync-tables';

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

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** Connection, pending changes, conflicts, last sync and initial-sync progress of one device. */
export function StatusBar({ device }: { device: Device }) {
  const s = useSyncStatus();
  const conn = connection(s);
  const lastSynced = useLastSynced(device, s?.lastSyncedAt ?? null);
  const pending = s?.pending ?? 0;
  const conflicts = s?.conflicts ?? 0;
  return (
    <div className={`status-bar tone-${conn.tone}`}>
      <p className="status-line" role="status" aria-label={`${device.name} sync status`}>
        <span className="dot" aria-hidden="true" />
        <strong className="conn">{conn.text}</strong>
        <span className="sep" aria-hidden="true">
          {' · '}
        </span>
        <span className={pending > 0 ? 'pending has-pending' : 'pending'}>
          {plural(pending, 'change', 'changes')} pending
        </span>
        <span className="sep" aria-hidden="true">
          {' · '}
        </span>
        {conflicts > 0 ? (
          <a className="conflicts has-conflicts" href={`#device-${device.key}-inbox`}>
            {plural(conflicts, 'conflict', 'conflicts')}
          </a>
        ) : (
          <span className="conflicts">0 conflicts</span>
        )}
      </p>
      <p className="last-synced">
        Last synced{' '}
        {lastSynced !== null ? (
          <time dateTime={new Date(lastSynced).toISOString()}>{formatWhen(lastSynced)}</time>
        ) : (
          'never'
        )}
        {s?.lastError && conn.tone !== 'ok' ? (
          <span className="last-error"> · {s.lastError.message}</span>
        ) : null}
      </p>
      <InitialSync device={device} status={s} />
    </div>
  );
}

function InitialSync({ device, status }: { device: Device; status: SyncStatus | undefined }) {
  const rows = useLiveQuery(() => scopeRows(device.db), [device.db]);
  const cursor = rows?.find((r) => r.scope === SCOPE)?.cursor ?? 0;
  const progress = status?.initialSync.scopes[SCOPE];
  const done = status?.initialSync.done === true;
  const id = `device-${device.key}-initial`;
  // The engine reports progress per session; a copy with a cursor was downloaded in an earlier one.
  const earlier = !done && !progress && cursor > 0;
  let text: string;
  if (done) text = 'done';
  else if (progress) text = `${Math.min(cursor, progress.head)} of ${progress.head} versions`;
  else if (earlier) text = `done earlier (local copy at v${cursor})`;
  else text = status?.online === false ? 'waiting for the network' : 'waiting for the server';
  return (
    <div className="initial-sync">
      <label htmlFor={id}>Initial sync: {text}</label>
      {done || earlier ? (
        <progress id={id} value={1} max={1} />
      ) : progress && progress.head > 0 ? (
        <progress id={id} value={Math.min(cursor, progress.head)} max={progress.head} />
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
