import { createHmac, timingSafeEqual } from 'node:crypto';

/** The request header carrying the signature: `t=<ms since epoch>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'syncline-signature';

/**
 * Signs a webhook body: HMAC-SHA256 with the shared secret over `<timestamp>.<body>` (the
 * timestamp binds the signature to one moment, so a captured request cannot be replayed later).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Checks a webhook request on the receiving side: the header must carry a `v1` HMAC of this exact
 * raw body under `secret`, with a timestamp within `toleranceMs` (default 5 minutes) of `now`.
 * Compare over the raw bytes received, before parsing the JSON.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  opts: { readonly now?: number; readonly toleranceMs?: number } = {},
): boolean {
  if (header === undefined) return false;
  const parts = new Map(
    header.split(',').map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1');
  if (!Number.isSafeInteger(timestamp) || given === undefined || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = opts.now ?? Date.now();
  if (Math.abs(now - timestamp) > (opts.toleranceMs ?? 300_000)) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  return timingSafeEqual(expected, Buffer.from(given, 'hex'));
}
