import { useEffect, useMemo, useRef, useState } from 'react';
import type { ConflictEntry } from '@syncline/client';
import { useConflicts, useLiveQuery } from '@syncline/client/react';
import type { Device } from './devices';
import { asText, changedFields, fieldLabel, formatValue, jsonEqual } from './format';

type Side = 'mine' | 'theirs';
type Obj = Readonly<Record<string, unknown>>;

/**
 * Conflicts of this device (the server's `manual` strategy refused a change because the card had
 * changed meanwhile): base, mine and theirs side by side, resolved as a whole or field by field.
 * A drawer over the board, opened from the status bar's conflict count: conflicts arriving
 * never push the board down.
 */
export function ConflictInbox({
  device,
  open,
  onClose,
}: {
  device: Device;
  open: boolean;
  onClose: () => void;
}) {
  const { conflicts, resolve } = useConflicts();
  const count = conflicts?.length ?? 0;
  const headingId = `device-${device.key}-inbox-h`;
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (open) heading.current?.focus();
  }, [open]);
  if (count === 0) return null;
  return (
    <section
      id={`device-${device.key}-inbox`}
      className="inbox"
      hidden={!open}
      aria-labelledby={`device-${device.key}-title ${headingId}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <div className="inbox-head">
        <h3 id={headingId} ref={heading} tabIndex={-1}>
          Conflict inbox <span className="count">{count}</span>
        </h3>
        <button type="button" className="small" onClick={onClose}>
          Close
        </button>
      </div>
      <p className="muted">
        {device.name} changed these cards offline while someone else changed them on the server. The board
        shows the server&apos;s version until you choose what to keep.
      </p>
      {conflicts?.map((c) => (
        <ConflictItem key={c.mid} device={device} conflict={c} resolve={resolve} />
      ))}
    </section>
  );
}

interface ConflictItemProps {
  device: Device;
  conflict: ConflictEntry;
  resolve: ReturnType<typeof useConflicts>['resolve'];
}

function ConflictItem({ device, conflict, resolve }: ConflictItemProps) {
  const base: Obj | null = conflict.base;
  const mine: Obj | null = conflict.mine;
  const theirs: Obj | null = conflict.theirs.value;
  // Counters (likes) are increments: the server adds up every device's, so they are not a choice;
  // the inbox shows the sum the board shows, and no resolution writes them.
  const counters = useMemo(() => conflict.counters.filter((f) => !f.includes('.')), [conflict.counters]);
  const now = useLiveQuery(
    () => (typeof conflict.key === 'string' ? device.db.cards.get(conflict.key) : undefined),
    [device.db, conflict.key],
  );
  const fields = useMemo(() => {
    const all = new Set([
      ...changedFields(base, mine),
      ...changedFields(base, theirs),
      ...changedFields(mine, theirs),
    ]);
    return [...all].filter((f) => f !== 'id' && !counters.includes(f) && !jsonEqual(mine?.[f], theirs?.[f]));
  }, [base, mine, theirs, counters]);
  // Default per field: the side that changed it; mine where both did (I am resolving here).
  const [choice, setChoice] = useState<Record<string, Side>>(() =>
    Object.fromEntries(fields.map((f) => [f, !jsonEqual(base?.[f], mine?.[f]) ? 'mine' : 'theirs'] as const)),
  );
  const [busy, setBusy] = useState(false);
  const title = asText(theirs?.['title'] ?? mine?.['title'] ?? base?.['title'] ?? conflict.id);
  const prefix = `device-${device.key}-conflict-${conflict.mid}`;

  const settle = (how: Parameters<typeof resolve>[1]) => {
    setBusy(true);
    resolve(conflict.mid, how).catch((err: unknown) => {
      setBusy(false);
      console.error(err);
    });
  };
  // Only the chosen fields are written, on the server's current card: fields nobody chose, changes
  // made meanwhile and likes stay as they are.
  const merge = () => settle({ fields: Object.fromEntries(fields.map((f) => [f, choice[f] ?? 'theirs'])) });

  return (
    <article className="conflict" aria-labelledby={`${prefix}-h`}>
      <h4 id={`${prefix}-h`}>“{title}”</h4>
      {mine === null && <p>You deleted this card; it was changed on the server.</p>}
      {theirs === null && <p>This card was deleted on the server; you changed it.</p>}
      <div className="table-wrap">
        <table>
          <caption className="sr-only">Base, mine and theirs for “{title}”; choose a side per field</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Base</th>
              <th scope="col">Mine (this device)</th>
              <th scope="col">Theirs (server)</th>
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => {
              const both = !jsonEqual(base?.[f], mine?.[f]) && !jsonEqual(base?.[f], theirs?.[f]);
              return (
                <tr key={f} className={both ? 'both-changed' : undefined}>
                  <th scope="row">
                    {fieldLabel(f)}
                    {both && <span className="tag">changed on both</span>}
                  </th>
                  <td className="base" data-label="Base">
                    {formatValue(f, base?.[f])}
                  </td>
                  {(['mine', 'theirs'] as const).map((side) => (
                    <td
                      key={side}
                      className={choice[f] === side ? `pick is-picked ${side}` : `pick ${side}`}
                      data-label={side === 'mine' ? 'Mine (this device)' : 'Theirs (server)'}
                    >
                      <label>
                        <input
                          type="radio"
                          name={`${prefix}-${f}`}
                          checked={choice[f] === side}
                          aria-label={`Use ${side} for ${fieldLabel(f)}`}
                          onChange={() => setChoice((c) => ({ ...c, [f]: side }))}
                        />
                        <span>{formatValue(f, (side === 'mine' ? mine : theirs)?.[f])}</span>
                      </label>
                    </td>
                  ))}
                </tr>
              );
            })}
            {counters.map((f) => (
              <tr key={f} className="merged">
                <th scope="row">{fieldLabel(f)}</th>
                <td className="base" data-label="Base">
                  {formatValue(f, base?.[f])}
                </td>
                <td colSpan={2} data-label="Merged automatically">
                  {formatValue(f, (now as Obj | undefined)?.[f] ?? theirs?.[f])}{' '}
                  <span className="muted">merged automatically: every device&apos;s likes count</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="form-actions">
        <button type="button" disabled={busy} onClick={() => settle('mine')}>
          Keep mine
        </button>
        <button type="button" disabled={busy} onClick={() => settle('theirs')}>
          Take theirs
        </button>
        <button type="button" className="primary" disabled={busy} onClick={merge}>
          Merge selected fields
        </button>
      </div>
    </article>
  );
}
