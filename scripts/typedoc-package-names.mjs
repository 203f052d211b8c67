// TypeDoc plugin: name each entry point's module by the import path an app uses
// (`@syncline/client/react`), not by its folder (`client/src/react`). The path comes from the
// nearest package.json: its name plus the `exports` subpath whose `syncline-source` file is
// the entry point.
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Converter, ReflectionKind } from 'typedoc';

/** `{ dir, manifest }` of the package.json nearest to `file`, or undefined. */
function nearestPackage(file) {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) return { dir, manifest: JSON.parse(readFileSync(path, 'utf8')) };
  }
  return undefined;
}

/** The specifier that imports `file`, if the package exports it. */
export function importPathOf(file) {
  const pkg = nearestPackage(file);
  if (!pkg?.manifest.name) return undefined;
  const own = `./${relative(pkg.dir, file)}`;
  for (const [subpath, target] of Object.entries(pkg.manifest.exports ?? {})) {
    const source = typeof target === 'object' && target !== null ? target['syncline-source'] : undefined;
    if (source === own)
      return subpath === '.' ? pkg.manifest.name : `${pkg.manifest.name}/${subpath.slice(2)}`;
  }
  return undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getChildrenByKind(ReflectionKind.Module)) {
      const file = module.sources?.[0]?.fullFileName;
      const name = file ? importPathOf(file) : undefined;
      if (name) module.name = name;
    }
  });
}
