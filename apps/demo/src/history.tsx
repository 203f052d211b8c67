import { useEffect, useRef, useState } from 'react';
import { useHistory, useLiveQuery, useSyncStatus, type UseHistoryResult } from '@syncline/client/react';
import type { Device } from './devices';
import { useDeviceName } from './devices-context';
import { asText, changedFields, fieldLabel, formatValue, formatWhen } from './format';
import type { Card } from './model';
import { recordMeta } from './sync-tables';

type HistoryEntry = NonNullable<UseHistoryResult['entries']>[number];

/** A card's versions from the server, newest first, each restorable. */
export function History({ device, card }: { device: Device; card: Card }) {
  const status = useSyncStatus();
  const online = status?.online ?? false;
  const meta = useLiveQuery(() => recordMeta(device.db, 'cards', card.id), [device.db, card.id]);
  const version = meta?.version ?? 0;
  // History lives on the server: an offline device does not ask for it.
  const { entries, loading, error, refresh } = useHistory('cards', online && version > 0 ? card.id : null, {
    limit: 50,
  });
  const [message, setMessage] = useState('');
  const headingId = `device-${device.key}-history-h`;

  // Fetch again whenever the confirmed version moves (own writes acknowledged, remote changes).
  const shown = useRef(version);
  useEffect(() => {
    if (shown.current === version) return;
    shown.current = version;
    refresh();
  }, [version, refresh]);

  const restore = (v: number) => {
    setMessage(`Restoring version ${v}…`);
    device.sync.restore('cards', card.id, v).then(
      () => setMessage(`Restored version ${v} as a new version.`),
      (err: unknown) => setMessage(`Could not restore: ${err instanceof Error ? err.message : String(err)}`),
    );
  };

  let body;
  if (!online)
    body = <p className="muted">History comes from the server: switch the device online to see it.</p>;
  else if (version === 0) body = <p className="muted">This card has not reached the server yet.</p>;
  else if (error && !entries)
    body = <p className="form-error">Could not load the history: {error.message}</p>;
  else if (!entries) body = <p className="muted">Loading…</p>;
  else
    body = (
      <ol className="timeline">
        {entries.map((entry, i) => (
          <HistoryItem
            key={entry.version}
            device={device}
            entry={entry}
            previous={entries[i + 1]}
            current={i === 0}
            onRestore={restore}
          />
        ))}
      </ol>
    );

  return (
    <section
      className="history"
      aria-labelledby={`device-${device.key}-title ${headingId}`}
      aria-busy={loading}
    >
      <h4 id={headingId}>History</h4>
      {body}
      <p className="form-message" role="status">
        {message}
      </p>
    </section>
  );
}

interface HistoryItemProps {
  device: Device;
  entry: HistoryEntry;
  previous: HistoryEntry | undefined;
  current: boolean;
  onRestore: (version: number) => void;
}

function HistoryItem({ device, entry, previous, current, onRestore }: HistoryItemProps) {
  const deviceName = useDeviceName();
  const who = entry.userId ?? 'someone';
  const where = deviceName(entry.clientId, device.sync.clientId);
  return (
    <li className={current ? 'entry is-current' : 'entry'}>
      <div className="entry-head">
        <span className="version">v{entry.version}</span>
        <span className="who">
          {who} <span className="muted">on {where}</span>
        </span>
        <time dateTime={new Date(entry.serverTime).toISOString()}>{formatWhen(entry.serverTime)}</time>
      </div>
      <Describe entry={entry} previous={previous} />
      {current ? (
        <p className="entry-note">Current version</p>
      ) : entry.value !== null ? (
        <button type="button" className="small" onClick={() => onRestore(entry.version)}>
          Restore version {entry.version}
        </button>
      ) : null}
    </li>
  );
}

function Describe({ entry, previous }: { entry: HistoryEntry; previous: HistoryEntry | undefined }) {
  if (entry.value === null) return <p className="what">Deleted the card</p>;
  if (entry.prevVersion === 0) return <p className="what">Created “{asText(entry.value['title'])}”</p>;
  // The previous entry is the version this one was made on, unless history was trimmed.
  const before = previous?.version === entry.prevVersion ? previous.value : undefined;
  const notes: string[] = [];
  if (entry.restoredFrom !== null) notes.push(`Restored version ${entry.restoredFrom}`);
  if (entry.conflict !== null)
    notes.push(
      entry.conflict.overwritten.length > 0
        ? `Resolved a conflict (${entry.conflict.strategy}); overwrote ${entry.conflict.overwritten.map(fieldLabel).join(', ')}`
        : `Merged with a concurrent change (${entry.conflict.strategy})`,
    );
  if (before === undefined)
    return <p className="what">{[...notes, `${entry.op} (earlier version not kept)`].join(' · ')}</p>;
  const fields = changedFields(before, entry.value);
  return (
    <div className="what">
      {notes.length > 0 && <p>{notes.join(' · ')}</p>}
      {fields.length === 0 ? (
        <p className="muted">No visible change</p>
      ) : (
        <ul className="changes">
          {fields.map((f) => (
            <li key={f}>
              <span className="field">{fieldLabel(f)}</span>{' '}
              {f === 'likes' && entry.op === 'inc' ? (
                <>
                  {formatValue(f, before?.[f])} → {formatValue(f, entry.value?.[f])} (like)
                </>
              ) : (
                <>
                  <del>{formatValue(f, before?.[f])}</del> → <ins>{formatValue(f, entry.value?.[f])}</ins>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
