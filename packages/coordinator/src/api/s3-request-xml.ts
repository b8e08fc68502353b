/**
 * Reading the two XML request bodies the bucket accepts, CompleteMultipartUpload and DeleteObjects,
 * with a small strict parser: elements, text, the five predefined entities, numeric character
 * references, comments and CDATA. DOCTYPEs are refused, so no entity expansion can happen. Anything
 * malformed is S3's MalformedXML.
 */
import type { RequestedPart } from '../store/multipart-completion.js';
import { S3Error } from './s3-errors.js';

/** XmlNode is a parsed element: its local name (namespace prefix dropped), children and own text. */
export interface XmlNode {
  name: string;
  children: XmlNode[];
  text: string;
}

const MAX_DEPTH = 32;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** parseXml parses a document into its root element; MalformedXML when it is not well-formed. */
export function parseXml(source: string): XmlNode {
  let at = 0;
  function fail(why: string): never {
    throw new S3Error('MalformedXML', `The XML you provided was not well-formed: ${why} (at offset ${at})`);
  }

  function skipMisc(): void {
    for (;;) {
      while (at < source.length && /\s/.test(source[at]!)) at++;
      if (source.startsWith('<?', at)) {
        const end = source.indexOf('?>', at);
        if (end < 0) fail('unterminated processing instruction');
        at = end + 2;
      } else if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
      } else if (source.startsWith('<!', at)) {
        fail('DOCTYPE and other declarations are not allowed');
      } else return;
    }
  }

  function decodeText(raw: string): string {
    return raw.replace(/&([^;&\s]{1,10});/g, (_, entity: string) => {
      if (entity in ENTITIES) return ENTITIES[entity]!;
      const code = /^#x([0-9a-fA-F]{1,6})$/.exec(entity)?.[1] ?? /^#(\d{1,7})$/.exec(entity)?.[1];
      if (code === undefined) return fail(`unknown entity &${entity};`);
      const value = parseInt(code, entity.startsWith('#x') ? 16 : 10);
      if (value > 0x10ffff) return fail(`character reference &${entity}; out of range`);
      return String.fromCodePoint(value);
    });
  }

  function element(depth: number): XmlNode {
    if (depth > MAX_DEPTH) fail('elements nested too deeply');
    const open = /^<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(source.slice(at, at + 4096));
    if (open === null) return fail('expected an element');
    at += open[0].length;
    const qualified = open[1]!;
    const node: XmlNode = { name: qualified.slice(qualified.indexOf(':') + 1), children: [], text: '' };
    if (open[3] === '/') return node;
    for (;;) {
      const lt = source.indexOf('<', at);
      if (lt < 0) fail(`unterminated element <${qualified}>`);
      const raw = source.slice(at, lt);
      node.text += decodeText(raw);
      at = lt;
      if (source.startsWith('</', at)) {
        const close = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(source.slice(at, at + 512));
        if (close === null || close[1] !== qualified) fail(`expected </${qualified}>`);
        at += close[0].length;
        return node;
      }
      if (source.startsWith('<!--', at)) {
        const end = source.indexOf('-->', at);
        if (end < 0) fail('unterminated comment');
        at = end + 3;
      } else if (source.startsWith('<![CDATA[', at)) {
        const end = source.indexOf(']]>', at);
        if (end < 0) fail('unterminated CDATA section');
        node.text += source.slice(at + 9, end);
        at = end + 3;
      } else {
        node.children.push(element(depth + 1));
      }
    }
  }

  skipMisc();
  const root = element(0);
  skipMisc();
  if (at !== source.length) fail('content after the root element');
  return root;
}

/**
 * parseCompleteMultipartUpload reads `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>
 * <ETag>"…"</ETag></Part>…</CompleteMultipartUpload>` into the part list, in document order.
 * Checksum elements are accepted and ignored. MalformedXML for a wrong root, a part without a
 * number 1–10000 or an ETag, or no parts at all.
 */
export function parseCompleteMultipartUpload(body: string): RequestedPart[] {
  const root = parseXml(body);
  if (root.name !== 'CompleteMultipartUpload') throw new S3Error('MalformedXML', 'The root element must be CompleteMultipartUpload.');
  const parts = root.children.filter((c) => c.name === 'Part').map((part): RequestedPart => {
    const number = childText(part, 'PartNumber')?.trim();
    const etag = childText(part, 'ETag');
    if (number === undefined || !/^\d{1,5}$/.test(number) || Number(number) < 1 || Number(number) > 10_000) {
      throw new S3Error('MalformedXML', 'Each Part needs a PartNumber between 1 and 10000.');
    }
    if (etag === undefined || etag.trim() === '') throw new S3Error('MalformedXML', 'Each Part needs an ETag.');
    return { partNumber: Number(number), etag: etag.trim() };
  });
  if (parts.length === 0) throw new S3Error('MalformedXML', 'You must specify at least one part.');
  return parts;
}

/** DeleteRequest is a parsed DeleteObjects body. */
export interface DeleteRequest {
  keys: string[];
  quiet: boolean;
}

/** MAX_DELETE_KEYS is the most keys one DeleteObjects request may name. */
export const MAX_DELETE_KEYS = 1000;

/**
 * parseDeleteObjects reads `<Delete><Quiet>true</Quiet><Object><Key>k</Key></Object>…</Delete>`.
 * Keys keep their whitespace. MalformedXML for a wrong root, an Object without a Key, no objects
 * or more than {@link MAX_DELETE_KEYS}; NotImplemented for a VersionId.
 */
export function parseDeleteObjects(body: string): DeleteRequest {
  const root = parseXml(body);
  if (root.name !== 'Delete') throw new S3Error('MalformedXML', 'The root element must be Delete.');
  const keys = root.children.filter((c) => c.name === 'Object').map((object) => {
    const key = childText(object, 'Key');
    if (key === undefined || key === '') throw new S3Error('MalformedXML', 'Each Object needs a Key.');
    const version = childText(object, 'VersionId');
    if (version !== undefined && version !== '' && version !== 'null') {
      throw new S3Error('NotImplemented', 'Deleting object versions is not implemented by this bucket.');
    }
    return key;
  });
  if (keys.length === 0 || keys.length > MAX_DELETE_KEYS) {
    throw new S3Error('MalformedXML', `A Delete request names between 1 and ${MAX_DELETE_KEYS} objects.`);
  }
  return { keys, quiet: childText(root, 'Quiet')?.trim().toLowerCase() === 'true' };
}

function childText(node: XmlNode, name: string): string | undefined {
  return node.children.find((c) => c.name === name)?.text;
}
