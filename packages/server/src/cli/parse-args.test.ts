import { describe, expect, it } from 'vitest';
import { parseCliArgs } from './parse-args.js';

describe('parseCliArgs', () => {
  it('reads flags over the environment over defaults', () => {
    expect(parseCliArgs([], {})).toMatchObject({
      port: 8787,
      host: '127.0.0.1',
      db: './syncline.db',
      logLevel: 'info',
    });
    expect(parseCliArgs(['--port', '9'], { SYNCLINE_PORT: '7', SYNCLINE_DB: 'x.db' })).toMatchObject({
      port: 9,
      db: 'x.db',
    });
  });

  it("accepts an embedder's extra boolean flags and still refuses unknown ones", () => {
    expect(parseCliArgs(['--dev'], {}, ['dev']).flags).toEqual({ dev: true });
    expect(parseCliArgs([], {}, ['dev']).flags).toEqual({ dev: false });
    expect(() => parseCliArgs(['--dev'], {})).toThrow(/dev/);
    expect(() => parseCliArgs(['--log-level', 'loud'], {})).toThrow('invalid --log-level "loud"');
  });
});
