import type { PresenceMember } from '@syncline/client';
import { usePresence } from '@syncline/client/react';
import { SCOPE } from './model';

/** What a demo tab publishes on the board: the card it has open, and whether it edits it. */
export interface CardPresence {
  readonly viewing: string | null;
  readonly editing: string | null;
}

function asCardPresence(state: unknown): CardPresence | null {
  if (state === null || typeof state !== 'object') return null;
  const { viewing, editing } = state as Record<string, unknown>;
  return {
    viewing: typeof viewing === 'string' ? viewing : null,
    editing: typeof editing === 'string' ? editing : null,
  };
}

/** Other tabs (any device, any user) on the board, read once per board render. */
export function useBoardPresence(): readonly PresenceMember[] {
  return usePresence(SCOPE);
}

/** Small avatars of who else has this card open, with a pencil for who is editing it. */
export function PresenceAvatars({ members, cardId }: { members: readonly PresenceMember[]; cardId: string }) {
  const here = members.flatMap((m) => {
    const p = m.self ? null : asCardPresence(m.state);
    if (!p || (p.viewing !== cardId && p.editing !== cardId)) return [];
    return [
      {
        key: `${m.clientId}-${m.tab}`,
        user: m.user,
        editing: p.editing === cardId,
        sameDevice: m.sameDevice,
      },
    ];
  });
  if (here.length === 0) return null;
  return (
    <ul className="presence" aria-label="Also here">
      {here.map((h) => {
        const who = h.sameDevice ? `${h.user} (another tab)` : h.user;
        const label = `${who} is ${h.editing ? 'editing' : 'viewing'} this card`;
        return (
          <li
            key={h.key}
            className={h.editing ? 'avatar is-editing' : 'avatar'}
            title={label}
            aria-label={label}
          >
            <span aria-hidden="true">
              {h.user.slice(0, 1).toUpperCase()}
              {h.editing ? '✎' : ''}
            </span>
          </li>
        );
      })}
    </ul>
  );
}
