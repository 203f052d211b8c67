import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MISSING_DEPENDENCY,
  MissingDependencyError,
  OPTIONAL_DEPENDENCIES,
  importOptional,
} from '../src/ops/optional-dependency.js';

// Real Node resolution from a directory outside the workspace, where the drivers the workspace
// installs as devDependencies cannot be found.
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'syncline-optional-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function module(name: string, source: string): () => Promise<unknown> {
  const file = join(dir, name);
  writeFileSync(file, source);
  return () => import(pathToFileURL(file).href);
}

describe('importOptional', () => {
  it('turns a driver that is not installed into missing_dependency with the install line', async () => {
    const load = module('load-pg.mjs', "export default await import('pg');\n");
    const err = await importOptional(
      'PostgreSQL fan-out',
      'pg',
      ['pg', '@socket.io/postgres-adapter'],
      load,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MissingDependencyError);
    const missing = err as MissingDependencyError;
    expect(missing.code).toBe(MISSING_DEPENDENCY);
    expect(missing.retryable).toBe(false);
    expect(missing.packageName).toBe('pg');
    expect(missing.install).toBe('npm install pg@8 @socket.io/postgres-adapter@0.5');
    expect(missing.message).toBe(
      "PostgreSQL fan-out needs the package 'pg', which is not installed. " +
        'Install it with: npm install pg@8 @socket.io/postgres-adapter@0.5',
    );
    expect((missing.cause as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('rethrows a package missing deeper down as it is (installing the driver would not help)', async () => {
    // A `pg` that is installed but lacks a dependency of its own.
    mkdirSync(join(dir, 'node_modules', 'pg'), { recursive: true });
    writeFileSync(
      join(dir, 'node_modules', 'pg', 'package.json'),
      JSON.stringify({ name: 'pg', type: 'module', exports: './index.js' }),
    );
    writeFileSync(join(dir, 'node_modules', 'pg', 'index.js'), "export * from 'pg-protocol-missing';\n");
    const load = module('load-broken-pg.mjs', "export default await import('pg');\n");
    const err = await importOptional('PostgresStorage', 'pg', ['pg'], load).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(MissingDependencyError);
    expect((err as Error).message).toContain("'pg-protocol-missing'");
  });

  it('passes other failures through and returns what loaded', async () => {
    const failing = module('throws.mjs', "throw new TypeError('boom');\n");
    await expect(importOptional('PostgresStorage', 'pg', ['pg'], failing)).rejects.toThrow(TypeError);
    const ok = module('ok.mjs', 'export const answer = 42;\n');
    await expect(importOptional('PostgresStorage', 'pg', ['pg'], ok)).resolves.toMatchObject({ answer: 42 });
  });
});

describe('the server package manifest', () => {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
    peerDependenciesMeta: Record<string, { optional?: boolean }>;
  };

  it('lists each optional driver as an optional peer (and a devDependency), with the major the error names', () => {
    for (const [name, major] of Object.entries(OPTIONAL_DEPENDENCIES)) {
      expect(manifest.dependencies[name], name).toBeUndefined();
      expect(manifest.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(manifest.devDependencies[name], name).toBe(manifest.peerDependencies[name]);
      // `npm install pg@8` must pick a version the peer range (`^8.x.y`) accepts.
      expect(manifest.peerDependencies[name], name).toMatch(
        new RegExp(`^\\^${major.replace('.', '\\.')}\\.`),
      );
    }
    expect(Object.keys(manifest.peerDependenciesMeta).sort()).toEqual(
      Object.keys(OPTIONAL_DEPENDENCIES).sort(),
    );
  });
});
