/**
 * Drivers that only PostgreSQL storage, cross-node fan-out and broker sinks need are optional peer
 * dependencies: a SQLite-only server installs and runs without them. They are imported when a
 * feature that needs them starts, and a missing one fails that start with an error that says
 * exactly what to install.
 */

/** The optional drivers, with the major version `npm install` should pick (the peer range's). */
export const OPTIONAL_DEPENDENCIES = {
  pg: '8',
  redis: '6',
  '@socket.io/postgres-adapter': '0.5',
  '@socket.io/redis-streams-adapter': '0.3',
  amqplib: '2',
  nats: '2',
} as const;

export type OptionalDependency = keyof typeof OPTIONAL_DEPENDENCIES;

export const MISSING_DEPENDENCY = 'missing_dependency' as const;

/** Thrown when a feature starts whose optional driver is not installed. */
export class MissingDependencyError extends Error {
  readonly code = MISSING_DEPENDENCY;
  /** Installing it does not help this process: it must be restarted. */
  readonly retryable = false;
  /** The package that could not be found. */
  readonly packageName: OptionalDependency;
  /** The command that installs everything the feature needs, e.g. `npm install pg@8`. */
  readonly install: string;

  constructor(
    feature: string,
    packageName: OptionalDependency,
    needs: readonly OptionalDependency[],
    cause: unknown,
  ) {
    const install = `npm install ${needs.map((n) => `${n}@${OPTIONAL_DEPENDENCIES[n]}`).join(' ')}`;
    super(
      `${feature} needs the package '${packageName}', which is not installed. Install it with: ${install}`,
      {
        cause,
      },
    );
    this.name = 'MissingDependencyError';
    this.packageName = packageName;
    this.install = install;
  }
}

/**
 * Imports the optional packages a feature needs, in order (`load` does the `import()`, so
 * bundlers and the type checker see a literal specifier). A package that is not installed
 * becomes a `MissingDependencyError` naming every package of `needs`; any other failure,
 * including a package missing deeper down that one of these imports, is rethrown as it is.
 */
export async function importOptional<T>(
  feature: string,
  packageName: OptionalDependency,
  needs: readonly OptionalDependency[],
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if (isNotFound(err, packageName)) throw new MissingDependencyError(feature, packageName, needs, err);
    throw err;
  }
}

/** Node's error for an import whose package is not installed, about this package itself. */
function isNotFound(err: unknown, packageName: string): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // "Cannot find package 'pg' imported from …" (or "Cannot find module 'pg'" from require).
  return err.message.includes(`'${packageName}'`);
}
