// The demo's data: one board of cards, synced in the scope `board:demo`.

export const BOARD = 'demo';
export const SCOPE = `board:${BOARD}`;

export const STATUSES = [
  { id: 'todo', label: 'To do' },
  { id: 'doing', label: 'Doing' },
  { id: 'done', label: 'Done' },
] as const;
export type CardStatus = (typeof STATUSES)[number]['id'];

/** People a card can be assigned to (the two devices belong to Ada and Ben). */
export const PEOPLE = ['Ada', 'Ben', 'Cleo'] as const;

export interface Card {
  id: string;
  board: string;
  title: string;
  notes: string;
  status: CardStatus;
  /** A name from PEOPLE, or '' for nobody. */
  assignee: string;
  /** Changed only through `sync.inc`: concurrent likes add up, they never conflict. */
  likes: number;
  createdAt: number;
}

/** The fields a person edits, in the order forms, diffs and the conflict inbox show them. */
export const EDITABLE_FIELDS = ['title', 'notes', 'status', 'assignee'] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

export const FIELD_LABELS: Readonly<Record<string, string>> = {
  title: 'Title',
  notes: 'Notes',
  status: 'Status',
  assignee: 'Assignee',
  likes: 'Likes',
  board: 'Board',
  createdAt: 'Created',
};

export function statusLabel(status: unknown): string {
  return STATUSES.find((s) => s.id === status)?.label ?? String(status);
}

export function newCard(title: string, assignee: string, now: number): Card {
  return {
    id: `card-${now.toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
    board: BOARD,
    title,
    notes: '',
    status: 'todo',
    assignee,
    likes: 0,
    createdAt: now,
  };
}

/** The first cards of an empty board: they say what to try. */
export function welcomeCards(now: number): Card[] {
  const card = (n: number, c: Partial<Card> & { title: string }): Card => ({
    id: `welcome-${n}`,
    board: BOARD,
    notes: '',
    status: 'todo',
    assignee: '',
    likes: 0,
    createdAt: now + n,
    ...c,
  });
  return [
    card(1, {
      title: 'Switch a device offline and edit',
      notes: 'Switch Device A off, edit this card on A and on B, then switch A back on.',
      assignee: 'Ada',
    }),
    card(2, {
      title: 'Like this card on both devices while offline',
      notes: 'Likes are increments: two offline likes become +2 once both sync.',
      status: 'doing',
      assignee: 'Ben',
    }),
    card(3, {
      title: 'Open a card to see its history',
      notes: 'Every version is kept. Restore any of them; the restore is a new version.',
      status: 'done',
    }),
  ];
}
