import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers (CONTRIBUTING, "Layers"), held by `no-restricted-imports`. A file gets the options
// of the last block that names the rule, so each block lists everything its files may not import.
// Tests beside the sources (`*.test.ts`) are not shipped and may import test code.
const SOURCE_TESTS = ['**/*.test.ts', '**/*.test.tsx'];
const NO_TEST_CODE = {
  group: ['**/test/**', '**/test', '@syncline/test-support', '@syncline/test-support/*'],
  message: 'Package sources never import test code (test folders, @syncline/test-support).',
};
const NO_SERVER = {
  group: ['@syncline/server', '@syncline/server/*'],
  message: 'The client never imports the server: both import @syncline/protocol.',
};
const NO_CLIENT = {
  group: ['@syncline/client', '@syncline/client/*'],
  message: 'The server never imports the client: both import @syncline/protocol.',
};
const NO_REACT = {
  group: ['react', 'react/*', 'react-dom', 'react-dom/*'],
  message: 'Only packages/client/src/react imports React; the client core stays framework-free.',
};
const layer = (files, patterns, ignores = []) => ({
  files,
  ignores: [...SOURCE_TESTS, ...ignores],
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});
const layers = [
  layer(
    ['packages/protocol/src/**'],
    [
      {
        regex: '^node:',
        message: 'The protocol runs in browsers: no Node modules.',
      },
      {
        // Anything that is not one of its own files, zod or @noble/hashes.
        regex: '^(?!\\.{1,2}/|zod(/|$)|@noble/hashes(/|$)|node:)',
        message: 'The protocol is the bottom layer: it imports only zod, @noble/hashes and its own files.',
      },
      NO_TEST_CODE,
    ],
  ),
  layer(['packages/client/src/**'], [NO_SERVER, NO_REACT, NO_TEST_CODE], ['packages/client/src/react/**']),
  layer(['packages/client/src/react/**'], [NO_SERVER, NO_TEST_CODE]),
  layer(['packages/server/src/**'], [NO_CLIENT, NO_TEST_CODE]),
  layer(
    ['packages/server/src/storage/**'],
    [
      NO_CLIENT,
      NO_TEST_CODE,
      {
        regex: '^(\\.\\./)+(sync|transport|cluster)(/|$)',
        message:
          'Storage knows nothing about sync, transport or cluster: they import storage, not the reverse.',
      },
    ],
  ),
];

export default tseslint.config(
  // The consumer fixture is type-checked by `pnpm test:consumer` against the installed packages.
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'coverage/**',
      'artifacts/**',
      'scripts/consumer-fixture/**',
      'docs/api/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Async methods that implement a Promise-returning interface without awaiting are fine.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // Tests, bench and apps: a `default` covers the rest of a union. Package sources are stricter
      // (below).
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use `as const` objects, not enums.' },
        // `import { z }` keeps zod's every locale (about 250 KiB minified) in an app's bundle;
        // the namespace import tree-shakes.
        {
          selector:
            "ImportDeclaration[source.value='zod'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message: "Use `import * as z from 'zod'`: the named `z` defeats tree shaking.",
        },
      ],
    },
  },
  ...layers,
  {
    // In package sources a switch over a union names every member, even with a `default`: a new
    // member (a mutation op, an issue code) is then a lint-time list of places to decide, not a
    // silent fall-through.
    files: ['packages/*/src/**/*.ts', 'packages/*/src/**/*.tsx'],
    ignores: SOURCE_TESTS,
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
