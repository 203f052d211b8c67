import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useLiveQuery } from '@syncline/client/react';
import type { Device } from './devices';
import { History } from './history';
import { EDITABLE_FIELDS, PEOPLE, SCOPE, STATUSES, type Card, type EditableField } from './model';
import type { CardPresence } from './presence-avatars';

interface CardDetailsProps {
  device: Device;
  id: string;
  onClose: () => void;
}

type Draft = Partial<Record<EditableField, string>>;

/** Edit form and history timeline of one card. Untouched fields follow live changes. */
export function CardDetails({ device, id, onClose }: CardDetailsProps) {
  const card = useLiveQuery(() => device.db.cards.get(id), [device.db, id], null);
  const [draft, setDraft] = useState<Draft>({});
  const [message, setMessage] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const prefix = `device-${device.key}-details`;

  useEffect(() => heading.current?.focus(), []);
  // Presence: the others see who has this card open, and who has unsaved edits in it.
  const editing = Object.keys(draft).length > 0;
  useEffect(() => {
    const state: CardPresence = { viewing: id, editing: editing ? id : null };
    device.sync.setPresence(SCOPE, { ...state });
  }, [device.sync, id, editing]);
  useEffect(() => () => device.sync.clearPresence(SCOPE), [device.sync]);

  if (card === null) return null; // loading
  if (card === undefined) {
    return (
      <section className="details" aria-labelledby={`device-${device.key}-title ${prefix}-h`}>
        <div className="details-head">
          <h3 id={`${prefix}-h`} ref={heading} tabIndex={-1}>
            Card deleted
          </h3>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
        <p>This card no longer exists on {device.name}.</p>
      </section>
    );
  }

  const value = (field: EditableField): string => draft[field] ?? card[field];
  const changes = Object.fromEntries(
    EDITABLE_FIELDS.filter((f) => draft[f] !== undefined && draft[f] !== card[f]).map((f) => [f, draft[f]]),
  ) as Partial<Card>;
  const dirty = Object.keys(changes).length > 0;
  const set = (field: EditableField, v: string) => setDraft((d) => ({ ...d, [field]: v }));

  const save = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    if (changes.title !== undefined && changes.title.trim() === '') {
      setMessage('A card needs a title.');
      return;
    }
    // Only the changed fields: the update travels as a field-level patch.
    device.db.cards.update(id, changes).then(
      () => {
        setDraft({});
        setMessage('Saved on this device.');
      },
      (err: unknown) => setMessage(`Not saved: ${err instanceof Error ? err.message : String(err)}`),
    );
  };

  const remove = () => {
    device.db.cards
      .delete(id)
      .then(onClose, (err: unknown) =>
        setMessage(`Not deleted: ${err instanceof Error ? err.message : String(err)}`),
      );
  };

  return (
    <section className="details" aria-labelledby={`device-${device.key}-title ${prefix}-h`}>
      <div className="details-head">
        <h3 id={`${prefix}-h`} ref={heading} tabIndex={-1}>
          Card: {card.title}
        </h3>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <form className="edit-form" onSubmit={save} aria-label={`Edit “${card.title}”`}>
        <label htmlFor={`${prefix}-title`}>Title</label>
        <input
          id={`${prefix}-title`}
          value={value('title')}
          maxLength={200}
          autoComplete="off"
          onChange={(e) => set('title', e.currentTarget.value)}
        />
        <label htmlFor={`${prefix}-notes`}>Notes</label>
        <textarea
          id={`${prefix}-notes`}
          value={value('notes')}
          rows={3}
          onChange={(e) => set('notes', e.currentTarget.value)}
        />
        <div className="pair">
          <div>
            <label htmlFor={`${prefix}-status`}>Status</label>
            <select
              id={`${prefix}-status`}
              value={value('status')}
              onChange={(e) => set('status', e.currentTarget.value)}
            >
              {STATUSES.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label htmlFor={`${prefix}-assignee`}>Assignee</label>
            <select
              id={`${prefix}-assignee`}
              value={value('assignee')}
              onChange={(e) => set('assignee', e.currentTarget.value)}
            >
              <option value="">Nobody</option>
              {PEOPLE.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={!dirty}>
            Save changes
          </button>
          <button type="button" disabled={!dirty} onClick={() => setDraft({})}>
            Discard
          </button>
          <button type="button" className="danger" onClick={remove}>
            Delete card
          </button>
        </div>
        <p className="form-message" role="status">
          {message}
        </p>
      </form>
      <History device={device} card={card} />
    </section>
  );
}
