/**
 * Writing S3's XML documents: a tiny element builder and renderer. Text is escaped for XML; control
 * characters S3 keys may hold become character references.
 */

/** S3_XMLNS is the namespace of S3's result documents (error documents have none). */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** XmlContent is an element's content: text (numbers and booleans as S3 spells them) or children. */
export type XmlContent = string | number | boolean | readonly (XmlElement | undefined)[];

/** XmlElement is one element; build it with {@link el}. */
export interface XmlElement {
  readonly name: string;
  readonly content: XmlContent;
}

/**
 * el builds an element. Children that are undefined are left out, which makes optional fields
 * read naturally: `el('Root', [el('A', 1), maybe ? el('B', 'x') : undefined])`.
 */
export function el(name: string, content: XmlContent): XmlElement {
  return { name, content };
}

/**
 * renderXml renders a whole document with the XML declaration; `xmlns` goes on the root element.
 * Example: renderXml(el('A', [el('B', 'x&y')]), 'urn:n') is
 * `<?xml version="1.0" encoding="UTF-8"?>\n<A xmlns="urn:n"><B>x&amp;y</B></A>`.
 */
export function renderXml(root: XmlElement, xmlns?: string): string {
  const attrs = xmlns === undefined ? '' : ` xmlns="${escapeXml(xmlns)}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root.name}${attrs}>${renderContent(root.content)}</${root.name}>`;
}

function renderContent(content: XmlContent): string {
  if (typeof content === 'string') return escapeXml(content);
  if (typeof content === 'number' || typeof content === 'boolean') return String(content);
  let out = '';
  for (const child of content) {
    if (child !== undefined) out += `<${child.name}>${renderContent(child.content)}</${child.name}>`;
  }
  return out;
}

/** escapeXml escapes text for element content or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#x${c.charCodeAt(0).toString(16)};`;
    }
  });
}

/** isoTime renders ms since the epoch the way S3's XML does: `2026-12-01T19:53:16.000Z`. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
