// Every relative link in the repository's Markdown resolves to a file of the repository (and an
// anchor to a heading of that file): the docs must work from a clone and on the forge, without
// anything that lives beside the repository.
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { headingAnchors, markdownLinks } from './docs/markdown-links.js';

const root = resolve(import.meta.dirname, '..');

/** Tracked files plus new ones not ignored, as repository-relative paths with `/`. */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out.split('\0').filter((f) => f !== '' && existsSync(join(root, f)));
}

const files = repositoryFiles();
const fileSet = new Set(files);
const markdownFiles = files.filter((f) => f.endsWith('.md'));
const WEB = /^(https?|mailto):/i;

/** True when `path` (repository-relative) is a file or a folder of the repository. */
function inRepository(path: string): boolean {
  return fileSet.has(path) || files.some((f) => f.startsWith(`${path}/`));
}

/** What is wrong with `target` written in `file`, or undefined when it resolves. */
function problemWith(file: string, target: string): string | undefined {
  if (WEB.test(target)) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return 'not a repository path';
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const absolute =
    path === ''
      ? join(root, file)
      : path.startsWith('/')
        ? join(root, path)
        : resolve(root, dirname(file), path);
  const inside = relative(root, absolute);
  if (inside.startsWith('..') || isAbsolute(inside)) return 'points outside the repository';
  const resolved = inside.split(sep).join('/').replace(/\/$/, '');
  if (!inRepository(resolved)) return `no file ${resolved} in the repository`;
  if (anchor !== undefined && anchor !== '' && resolved.endsWith('.md')) {
    if (!headingAnchors(readFileSync(absolute, 'utf8')).has(anchor))
      return `no heading #${anchor} in ${resolved}`;
  }
  return undefined;
}

describe('Markdown links', () => {
  it('checks the front pages and the docs', () => {
    for (const page of [
      'README.md',
      'CONTRIBUTING.md',
      'CHANGELOG.md',
      'docs/README.md',
      'docs/architecture.md',
    ]) {
      expect(markdownFiles).toContain(page);
    }
  });

  it.each(markdownFiles)('%s: every relative link resolves inside the repository', (file) => {
    const problems = markdownLinks(readFileSync(join(root, file), 'utf8')).flatMap(({ target, line }) => {
      const problem = problemWith(file, target);
      return problem === undefined ? [] : [`${file}:${line} (${target}): ${problem}`];
    });
    expect(problems.join('\n')).toBe('');
  });

  it('reads links and headings the way GitHub renders them', () => {
    const sample = [
      '# Syncline — design',
      'See [the guide](docs/guide.md#keys) and ![logo](<img/a b.png> "title").',
      '`[not](a-link.md)` and <a href="x.md">x</a>',
      '```sh',
      '# not a heading',
      '[not](a-link-either.md)',
      '```',
      '## `createSyncClient(db, options)`',
      '## Fan-out, **again**',
      '## Fan-out, again',
      '[ref]: ../shared/DESIGN.md',
    ].join('\n');
    expect(markdownLinks(sample)).toEqual([
      { target: 'docs/guide.md#keys', line: 2 },
      { target: 'img/a b.png', line: 2 },
      { target: 'x.md', line: 3 },
      { target: '../shared/DESIGN.md', line: 11 },
    ]);
    expect([...headingAnchors(sample)]).toEqual([
      'syncline--design',
      'createsyncclientdb-options',
      'fan-out-again',
      'fan-out-again-1',
    ]);
    expect(problemWith('README.md', '../shared/DESIGN.md')).toBe('points outside the repository');
    expect(problemWith('docs/README.md', '../README.md#quick-start')).toBeUndefined();
    expect(problemWith('docs/README.md', '../README.md#no-such-heading')).toMatch(/no heading/);
    expect(problemWith('docs/README.md', 'missing.md')).toMatch(/no file docs\/missing.md/);
  });
});
