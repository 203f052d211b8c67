import type { JsonObject } from '@syncline/protocol';

/**
 * JSON text of the values one transaction writes, each serialized once. A change writes the
 * same value object twice in a row — as the record's latest state and in its history entry —
 * and serializing it was a measurable share of ingest, so the last value's text is kept.
 *
 * Only the very last value is remembered, and only for as long as the transaction lives: values
 * are treated as immutable once handed to storage, and a one-slot memo never holds a value back
 * from the garbage collector for longer than the next write.
 */
export class JsonTexts {
  #value: JsonObject | undefined;
  #text = '';

  /** `value` as JSON text; null (a tombstone) stays null. */
  of(value: JsonObject | null): string | null {
    if (value === null) return null;
    if (value !== this.#value) {
      this.#text = JSON.stringify(value);
      this.#value = value;
    }
    return this.#text;
  }
}
