// TypeDoc plugin: list the undocumented properties of the public API's interfaces, classes and
// object type aliases, one line per type. TypeDoc's own check (`requiredToBeDocumented` with
// `Property`) also walks the object types inferred from zod schemas (`z.enum(['put', …])` becomes
// `{ put: 'put' }`): hundreds of members nobody writes comments for. So typedoc.json leaves
// `Property` out of TypeDoc's check (which still reports every undocumented exported symbol,
// function, method and accessor) and this reports only properties a person wrote.
import { Converter, ReflectionKind } from 'typedoc';

const OWNER_KINDS = ReflectionKind.Interface | ReflectionKind.Class | ReflectionKind.TypeAlias;

/**
 * The interface, class or type alias whose declaration holds this property, if the property was
 * written there: a literal nested in a member counts (`retention?: { keepVersions?: number }`), a
 * type inferred from elsewhere (a zod schema in another file) does not.
 */
function declaringOwner(property) {
  let container = property.parent;
  while (container?.kindOf(ReflectionKind.TypeLiteral) && container.parent?.kindOf(ReflectionKind.Property)) {
    container = container.parent.parent;
  }
  if (container?.kindOf(ReflectionKind.TypeLiteral) && container.parent?.kindOf(ReflectionKind.TypeAlias)) {
    container = container.parent;
  }
  if (!container?.kindOf(OWNER_KINDS)) return undefined;
  const ownFile = container.sources?.[0]?.fullFileName;
  return property.sources?.some((s) => s.fullFileName === ownFile) ? container : undefined;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  // After TypeDoc's own resolve step, which copies comments from implemented interfaces.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => {
      const missing = new Map();
      for (const property of context.project.getReflectionsByKind(ReflectionKind.Property)) {
        if (property.inheritedFrom || property.flags.isExternal || property.hasComment()) continue;
        const owner = declaringOwner(property);
        if (!owner) continue;
        const names = missing.get(owner) ?? [];
        names.push(
          property
            .getFriendlyFullName()
            .slice(owner.getFriendlyFullName().length + 1)
            .replaceAll('__type.', ''),
        );
        missing.set(owner, names);
      }
      for (const [owner, names] of missing) {
        const where = owner.sources?.[0];
        app.logger.warn(
          `${owner.getFriendlyFullName()} (${where ? `${where.fileName}:${where.line}` : '?'}): no doc comment on ${names.join(', ')}`,
        );
      }
    },
    -100,
  );
}
