import { useState, type FormEvent } from 'react';
import type { Device } from './devices';
import { newCard } from './model';

export function NewCardForm({ device }: { device: Device }) {
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = `device-${device.key}-new`;

  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const text = title.trim();
    if (text === '') return;
    // A plain Dexie write: Syncline queues it in the same IndexedDB transaction.
    device.db.cards.add(newCard(text, device.user, Date.now())).then(
      () => {
        setTitle('');
        setError(null);
      },
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  };

  return (
    <form className="new-card" onSubmit={submit}>
      <label htmlFor={id}>New card</label>
      <div className="row">
        <input
          id={id}
          value={title}
          required
          maxLength={200}
          autoComplete="off"
          placeholder="What needs doing?"
          onChange={(e) => setTitle(e.currentTarget.value)}
        />
        <button type="submit">Add card</button>
      </div>
      {error !== null && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
