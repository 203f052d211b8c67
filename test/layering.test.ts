/**
 * The layer rules of eslint.config.js, proved on planted sources: each import a layer may not
 * make is reported, and the imports it may make are not. Linted in memory (nothing is written)
 * and without type information, so the whole file takes about a second.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

let eslint: ESLint;
beforeAll(() => {
  // The restricted-imports rule needs no types; without them a planted file needs no project.
  eslint = new ESLint({ cwd: ROOT, overrideConfig: [tseslint.configs.disableTypeChecked] });
});

/** The `no-restricted-imports` messages for `source` planted at `path` (relative to the root). */
async function restricted(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: `${ROOT}${path}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const CASES: readonly {
  readonly layer: string;
  readonly path: string;
  readonly refused: readonly string[];
  readonly allowed: readonly string[];
}[] = [
  {
    layer: 'protocol',
    path: 'packages/protocol/src/planted.ts',
    refused: [
      'node:crypto',
      'fs',
      '@syncline/client',
      '@syncline/server',
      'dexie',
      'rxjs',
      'react',
      'socket.io-client',
    ],
    allowed: ['zod', 'zod/mini', '@noble/hashes/sha2', './json.js', './messages/push.js'],
  },
  {
    layer: 'client core',
    path: 'packages/client/src/engine/planted.ts',
    refused: [
      '@syncline/server',
      'react',
      'react-dom/client',
      '../../test/helpers.js',
      '@syncline/test-support',
    ],
    allowed: ['@syncline/protocol', 'dexie', 'rxjs', 'socket.io-client', '../store/schema.js'],
  },
  {
    layer: 'client react',
    path: 'packages/client/src/react/planted.ts',
    refused: ['@syncline/server'],
    allowed: ['react', '../sync-client.js'],
  },
  {
    layer: 'server',
    path: 'packages/server/src/sync/planted.ts',
    refused: [
      '@syncline/client',
      '@syncline/client/react',
      '@syncline/test-support/server',
      '../../test/x.js',
    ],
    allowed: ['@syncline/protocol', '../storage/storage.js', '../transport/session.js'],
  },
  {
    layer: 'storage',
    path: 'packages/server/src/storage/planted.ts',
    refused: [
      '../sync/apply-push.js',
      '../transport/session.js',
      '../cluster/cluster-fanout.js',
      '@syncline/client',
    ],
    allowed: ['./storage.js', '../ops/logger.js', '@syncline/protocol'],
  },
];

describe('layer rules (eslint.config.js)', () => {
  for (const c of CASES) {
    it(`${c.layer}: refuses ${c.refused.join(', ')}; allows ${c.allowed.join(', ')}`, async () => {
      for (const spec of c.refused) {
        const messages = await restricted(c.path, `import '${spec}';\n`);
        expect(messages, spec).not.toEqual([]);
        expect(messages[0], spec).toContain(`'${spec}' import is restricted`);
      }
      for (const spec of c.allowed) expect(await restricted(c.path, `import '${spec}';\n`), spec).toEqual([]);
    });
  }

  it('leaves tests beside the sources alone', async () => {
    expect(
      await restricted('packages/protocol/src/planted.test.ts', `import '@syncline/test-support';\n`),
    ).toEqual([]);
  });
});
