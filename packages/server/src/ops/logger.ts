/** Structured logging: one JSON object per line. */
export interface Logger {
  /** Detail for debugging; hidden at the default level. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Normal operation worth a line (start, listening, shutdown). */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Something degraded that may recover by itself (a lost connection, a retry). */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** Something an operator should look at (a storage failure, a webhook given up). */
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** The lowest level a logger writes; `silent` writes nothing. */
export type LogLevel = keyof typeof LEVELS;

export function isLogLevel(s: string): s is LogLevel {
  return Object.hasOwn(LEVELS, s);
}

/**
 * A JSON-lines logger writing to `write` (stdout by default). Error objects in fields are
 * flattened to `{ message, stack }` so they survive serialization.
 */
export function createJsonLogger(
  opts: { level?: LogLevel; write?: (line: string) => void; base?: Record<string, unknown> } = {},
): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < min) return;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...opts.base };
    for (const [k, v] of Object.entries(fields ?? {})) {
      entry[k] = v instanceof Error ? { message: v.message, stack: v.stack } : v;
    }
    write(`${JSON.stringify(entry)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** A logger that drops everything (tests, embedders with their own logging). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
