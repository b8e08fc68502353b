import { describe, expect, it } from 'vitest';
import { parseCompleteMultipartUpload, parseDeleteObjects, parseXml } from './s3-request-xml.js';

describe('parseXml', () => {
  it('parses elements, entities, character references, CDATA and comments; drops namespace prefixes', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- c --><s:Root xmlns:s="urn:x" a=\'1\'><A>x &amp; &lt;y&gt; &#65;&#x42;</A><B/><C><![CDATA[<raw>]]><!-- no --></C></s:Root>\n');
    expect(root.name).toBe('Root');
    expect(root.children.map((c) => [c.name, c.text])).toEqual([['A', 'x & <y> AB'], ['B', ''], ['C', '<raw>']]);
  });

  it.each([
    ['', /expected an element/],
    ['<A>', /unterminated element/],
    ['<A></B>', /expected <\/A>/],
    ['<A>&bogus;</A>', /unknown entity/],
    ['<A>&#x110000;</A>', /out of range/],
    ['<!DOCTYPE x [<!ENTITY e "boom">]><A>&e;</A>', /DOCTYPE/],
    ['<A/><B/>', /content after the root/],
    ['<A><!-- open</A>', /unterminated comment/],
    ['<A><![CDATA[open</A>', /unterminated CDATA/],
    ['<?xml ', /unterminated processing instruction/],
    [`${'<A>'.repeat(40)}${'</A>'.repeat(40)}`, /nested too deeply/],
  ])('refuses %j as MalformedXML', (source, why) => {
    expect(() => parseXml(source)).toThrow(expect.objectContaining({ code: 'MalformedXML', message: expect.stringMatching(why) }));
  });
});

describe('parseCompleteMultipartUpload', () => {
  it('reads parts in document order, ignoring checksum elements', () => {
    const body = `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <Part><ETag>&quot;aa&quot;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32><PartNumber>1</PartNumber></Part>
      <Part><PartNumber> 2 </PartNumber><ETag>bb</ETag></Part>
    </CompleteMultipartUpload>`;
    expect(parseCompleteMultipartUpload(body)).toEqual([{ partNumber: 1, etag: '"aa"' }, { partNumber: 2, etag: 'bb' }]);
  });

  it.each([
    ['<Other/>'],
    ['<CompleteMultipartUpload/>'],
    ['<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>'],
    ['<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>'],
    ['<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>'],
    ['<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>'],
  ])('refuses %s', (body) => {
    expect(() => parseCompleteMultipartUpload(body)).toThrow(expect.objectContaining({ code: 'MalformedXML' }));
  });
});

describe('parseDeleteObjects', () => {
  it('reads keys (whitespace kept) and Quiet', () => {
    expect(parseDeleteObjects('<Delete><Quiet>true</Quiet><Object><Key> a b </Key></Object><Object><Key>c&amp;d</Key><VersionId>null</VersionId></Object></Delete>')).toEqual({
      keys: [' a b ', 'c&d'],
      quiet: true,
    });
    expect(parseDeleteObjects('<Delete><Object><Key>k</Key></Object></Delete>').quiet).toBe(false);
  });

  it('refuses a wrong root, empty keys, no objects, too many, and real versions', () => {
    const malformed = expect.objectContaining({ code: 'MalformedXML' });
    expect(() => parseDeleteObjects('<Remove/>')).toThrow(malformed);
    expect(() => parseDeleteObjects('<Delete><Object><Key></Key></Object></Delete>')).toThrow(malformed);
    expect(() => parseDeleteObjects('<Delete></Delete>')).toThrow(malformed);
    expect(() => parseDeleteObjects(`<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`)).toThrow(malformed);
    expect(() => parseDeleteObjects('<Delete><Object><Key>k</Key><VersionId>v1</VersionId></Object></Delete>')).toThrow(
      expect.objectContaining({ code: 'NotImplemented' }),
    );
  });
});
