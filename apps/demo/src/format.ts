import { FIELD_LABELS, statusLabel } from './model';

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Time only for today, date and time otherwise. */
export function formatWhen(ms: number, now = Date.now()): string {
  return new Date(ms).toDateString() === new Date(now).toDateString()
    ? timeFormat.format(ms)
    : dateTimeFormat.format(ms);
}

export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field;
}

/** Any JSON value as text: strings as they are, everything else as JSON. */
export function asText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** A field's value as a person reads it. */
export function formatValue(field: string, value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (field === 'status') return statusLabel(value);
  if (field === 'assignee') return value === '' ? 'Nobody' : asText(value);
  if (field === 'createdAt' && typeof value === 'number') return formatWhen(value);
  if (typeof value === 'string') return value === '' ? '(empty)' : value;
  return JSON.stringify(value);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

type Obj = Readonly<Record<string, unknown>> | null | undefined;

/** Top-level fields whose values differ, in a stable order (known fields first). */
export function changedFields(a: Obj, b: Obj, ignore: readonly string[] = ['id']): string[] {
  const keys = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  const order = Object.keys(FIELD_LABELS);
  return [...keys]
    .filter((k) => !ignore.includes(k) && !jsonEqual(a?.[k], b?.[k]))
    .sort((x, y) => rank(order, x) - rank(order, y) || x.localeCompare(y));
}

function rank(order: readonly string[], key: string): number {
  const i = order.indexOf(key);
  return i === -1 ? order.length : i;
}

export function shortHash(hash: string): string {
  return hash.slice(0, 10);
}
