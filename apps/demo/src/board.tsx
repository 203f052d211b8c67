import { useMemo } from 'react';
import { useConflicts, useLiveQuery, useObservable, useSyncClient } from '@syncline/client/react';
import type { PresenceMember } from '@syncline/client';
import type { Device } from './devices';
import { BOARD, STATUSES, statusLabel, type Card, type CardStatus } from './model';
import { PresenceAvatars, useBoardPresence } from './presence-avatars';

interface BoardProps {
  device: Device;
  selected: string | null;
  onOpen: (id: string) => void;
}

/** The cards of the board in three columns, read with a live query on the device's database. */
export function Board({ device, selected, onOpen }: BoardProps) {
  const sync = useSyncClient();
  const cards = useLiveQuery(
    () => device.db.cards.where('board').equals(BOARD).sortBy('createdAt'),
    [device.db],
  );
  const outbox = useObservable(() => sync.outbox$, [sync]);
  const { conflicts } = useConflicts();
  const pendingIds = useMemo(
    () => new Set((outbox ?? []).filter((e) => e.table === 'cards').map((e) => e.key)),
    [outbox],
  );
  const conflictIds = useMemo(() => new Set((conflicts ?? []).map((c) => c.id)), [conflicts]);
  const members = useBoardPresence();

  if (cards === undefined) return <p className="board-loading">Loading the board…</p>;
  return (
    <div className="board">
      {STATUSES.map((column) => {
        const inColumn = cards.filter((c) => c.status === column.id);
        const headingId = `device-${device.key}-col-${column.id}`;
        return (
          // A group, not a landmark: six "To do"-like regions would drown the page's landmarks.
          <div
            key={column.id}
            role="group"
            className={`column column-${column.id}`}
            aria-labelledby={headingId}
          >
            <h3 id={headingId}>
              {column.label} <span className="count">{inColumn.length}</span>
            </h3>
            {inColumn.length === 0 ? (
              <p className="empty">No cards</p>
            ) : (
              <ul className="cards">
                {inColumn.map((card) => (
                  <li key={card.id}>
                    <CardItem
                      device={device}
                      card={card}
                      pending={pendingIds.has(card.id)}
                      conflict={conflictIds.has(card.id)}
                      selected={selected === card.id}
                      onOpen={onOpen}
                      members={members}
                    />
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
    </div>
  );
}

interface CardItemProps {
  device: Device;
  card: Card;
  pending: boolean;
  conflict: boolean;
  selected: boolean;
  onOpen: (id: string) => void;
  /** Every tab present on the board (avatars show who has this card open). */
  members: readonly PresenceMember[];
}

function CardItem({ device, card, pending, conflict, selected, onOpen, members }: CardItemProps) {
  const titleId = `device-${device.key}-card-${card.id}`;
  const classes = ['card', selected && 'is-selected', pending && 'is-pending', conflict && 'is-conflict'];
  return (
    <article className={classes.filter(Boolean).join(' ')} aria-labelledby={titleId}>
      <h4 id={titleId} className="card-title">
        {card.title}
      </h4>
      {card.notes !== '' && <p className="card-notes">{card.notes}</p>}
      <p className="card-meta">
        <span className={card.assignee === '' ? 'assignee nobody' : 'assignee'}>
          {card.assignee === '' ? 'Unassigned' : card.assignee}
        </span>
        {pending && <span className="badge badge-pending">Not synced yet</span>}
        {conflict && <span className="badge badge-conflict">Conflict</span>}
      </p>
      <PresenceAvatars members={members} cardId={card.id} />
      <div className="card-actions">
        <button
          type="button"
          className="like"
          aria-label={`Like “${card.title}”, ${card.likes} ${card.likes === 1 ? 'like' : 'likes'}`}
          // An increment, not a read-modify-write: concurrent likes add up on the server.
          onClick={() => void device.sync.inc('cards', card.id, 'likes')}
        >
          <span aria-hidden="true">♥</span> {card.likes}
        </button>
        <select
          aria-label={`Status of “${card.title}”`}
          value={card.status}
          onChange={(e) =>
            void device.db.cards.update(card.id, { status: e.currentTarget.value as CardStatus })
          }
        >
          {STATUSES.map((s) => (
            <option key={s.id} value={s.id}>
              {statusLabel(s.id)}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="open"
          aria-label={`Open “${card.title}”`}
          aria-expanded={selected}
          onClick={() => onOpen(card.id)}
        >
          Open
        </button>
      </div>
    </article>
  );
}
