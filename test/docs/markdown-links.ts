// Links and heading anchors of a Markdown file, read the way GitHub renders it: nothing inside
// fenced code blocks or code spans is a link or a heading.

/** One link target written in a Markdown file. */
export interface MarkdownLink {
  /** The target as written: `docs/x.md#anchor`, `#anchor`, `https://…`. */
  readonly target: string;
  /** 1-based line of the link, for the failure message. */
  readonly line: number;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** The lines of `markdown` that are prose (fenced code blocks blanked, numbering kept). */
function proseLines(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const open = FENCE.exec(line)?.[1];
    if (fence === undefined) {
      if (open !== undefined) {
        fence = open;
        return '';
      }
      return line;
    }
    if (open !== undefined && open[0] === fence[0] && open.length >= fence.length) fence = undefined;
    return '';
  });
}

/** `line` with the contents of code spans removed (`` `[a](b)` `` is not a link). */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '');
}

const INLINE_LINK = /!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
const REFERENCE_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/;
const HTML_LINK = /<(?:a|img)\s[^>]*?(?:href|src)\s*=\s*"([^"]*)"/gi;

/** Every link target in `markdown`: inline links and images, reference definitions, HTML. */
export function markdownLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  proseLines(markdown).forEach((raw, index) => {
    const line = withoutCodeSpans(raw);
    const found = [
      ...[...line.matchAll(INLINE_LINK)].map((m) => m[1]),
      ...[...line.matchAll(HTML_LINK)].map((m) => m[1]),
      REFERENCE_DEFINITION.exec(line)?.[1],
    ];
    for (const target of found) {
      if (target === undefined) continue;
      links.push({ target: target.replace(/^<(.*)>$/, '$1'), line: index + 1 });
    }
  });
  return links;
}

/**
 * GitHub's anchor for a heading text: the rendered text lowercased, punctuation other than `-`
 * and `_` dropped, spaces turned into `-`.
 */
export function headingSlug(text: string): string {
  const rendered = text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/`([^`]*)`/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/\*+/g, '');
  return rendered
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of every ATX heading in `markdown` (`## Title`), numbered like GitHub's (`-1`…). */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+\s*)?$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const slug = headingSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}
