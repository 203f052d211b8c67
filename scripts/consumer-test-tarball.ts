// What a packed tarball must (and must not) hold before anyone installs it.
import { basename } from 'node:path';
import { runOk } from './consumer-test-process.js';

interface Manifest {
  readonly name: string;
  readonly license?: string;
  readonly engines?: { readonly node?: string };
  readonly repository?: { readonly url?: string };
  readonly keywords?: readonly string[];
  readonly exports?: Readonly<Record<string, string | Readonly<Record<string, string>>>>;
  readonly bin?: Readonly<Record<string, string>>;
}

const FORBIDDEN = [
  /\.test\.[cm]?[jt]sx?(\.map)?$/,
  /\.test\.d\.ts/,
  /tsbuildinfo/,
  /(^|\/)test\//,
  /\/node_modules\//,
];

/** Throws with every problem of one tarball: stray files, missing entry points, workspace ranges. */
export async function checkTarball(file: string): Promise<void> {
  const list = await runOk('tar', ['-tzf', file], { cwd: '/', timeoutMs: 30_000 });
  const entries = new Set(list.stdout.split('\n').filter(Boolean));
  const raw = (await runOk('tar', ['-xzOf', file, 'package/package.json'], { cwd: '/', timeoutMs: 30_000 }))
    .stdout;
  const manifest = JSON.parse(raw) as Manifest;
  const problems: string[] = [];

  for (const entry of entries) {
    if (FORBIDDEN.some((re) => re.test(entry.replace(/^package\//, '')))) problems.push(`ships ${entry}`);
  }
  for (const needed of ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/index.js.map']) {
    if (!entries.has(`package/${needed}`)) problems.push(`lacks ${needed}`);
  }
  if (raw.includes('workspace:')) problems.push('package.json still has workspace: ranges');
  if (manifest.license !== 'MIT') problems.push(`license is ${manifest.license}`);
  if (!manifest.engines?.node) problems.push('no engines.node');
  if (!manifest.repository?.url) problems.push('no repository');
  if (!manifest.keywords?.length) problems.push('no keywords');
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const targets = typeof target === 'string' ? { default: target } : target;
    for (const [condition, path] of Object.entries(targets)) {
      // The workspace's own condition points at sources, which are shipped for the source maps.
      if (!entries.has(`package/${path.replace(/^\.\//, '')}`)) {
        problems.push(`exports["${subpath}"].${condition} → ${path} is not in the tarball`);
      }
    }
  }
  for (const [name, path] of Object.entries(manifest.bin ?? {})) {
    if (!entries.has(`package/${path.replace(/^\.\//, '')}`))
      problems.push(`bin ${name} → ${path} is missing`);
  }
  if (problems.length > 0)
    throw new Error(`${basename(file)} (${manifest.name}):\n  ${problems.join('\n  ')}`);
  process.stdout.write(`   ${basename(file)}: ${entries.size} files, no tests, no build info\n`);
}
