import type { IncomingMessage } from 'node:http';
import { syncError, type Validated } from '@syncline/protocol';

/**
 * Reads a JSON request body of at most `maxBytes` bytes. Refuses, without buffering more than
 * the limit: a body over it (`payload_too_large`, decided from Content-Length when given), a
 * content type other than JSON (`invalid_message`, status 415), and text that is not JSON
 * (`invalid_message`). The parsed value is still untrusted: validate it before use.
 */
export function readJsonBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Validated<unknown> & { readonly status?: number }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    req.resume();
    return Promise.resolve({
      ok: false,
      status: 415,
      error: syncError('invalid_message', 'send the body as application/json'),
    });
  }
  const tooLarge = {
    ok: false,
    error: syncError('payload_too_large', `the body is larger than ${maxBytes} bytes`),
  } as const;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.resume(); // discard the rest
        resolve(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('error', () => resolve({ ok: false, error: syncError('invalid_message', 'request aborted') }));
    req.once('end', () => {
      if (size > maxBytes) return;
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch {
        resolve({ ok: false, error: syncError('invalid_message', 'the body is not valid JSON') });
      }
    });
  });
}
