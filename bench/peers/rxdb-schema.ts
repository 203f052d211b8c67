/** The card schema every RxDB peer database uses (the same fields as Syncline's bench cards). */
export const CARD_SCHEMA = {
  version: 0,
  primaryKey: 'id',
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 64 },
    title: { type: 'string' },
    notes: { type: 'string' },
    status: { type: 'string' },
    likes: { type: 'number' },
    seq: { type: 'number' },
  },
  required: ['id'],
} as const;
