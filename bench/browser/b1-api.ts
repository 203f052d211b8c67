/**
 * Page side of B1: the bench API both B1 pages expose over their write paths, with one record and
 * one revision counter per variant.
 */
import { B1_VARIANTS, type B1PageApi, type B1Variant } from './page-api.js';
import { measureWrites, type Target } from './page-measure.js';

export function b1Api(
  targets: Partial<Record<B1Variant, Target>>,
  versions: Record<string, string>,
): B1PageApi {
  const revs = new Map<B1Variant, { value: number }>();
  return {
    measure: (variant, count) => {
      const target = targets[variant];
      if (target === undefined) throw new Error(`this page has no variant ${variant}`);
      let rev = revs.get(variant);
      if (rev === undefined) revs.set(variant, (rev = { value: 0 }));
      // One record per variant (the React and plain Syncline variants share a database).
      return measureWrites(target, B1_VARIANTS.indexOf(variant), rev, count);
    },
    versions: () => ({ ...versions, chromium: navigator.userAgent.replace(/^.*Chrome\/(\S+).*$/, '$1') }),
  };
}
