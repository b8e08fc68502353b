import { describe, expect, it } from 'vitest';
import { el, escapeXml, isoTime, renderXml } from './s3-xml.js';

describe('renderXml', () => {
  it('renders the declaration, namespace, nested elements, numbers and booleans, and skips undefined children', () => {
    const doc = renderXml(el('A', [el('B', 'x&y'), undefined, el('N', 3), el('T', false), el('E', [])]), 'urn:n');
    expect(doc).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<A xmlns="urn:n"><B>x&amp;y</B><N>3</N><T>false</T><E></E></A>');
    expect(renderXml(el('Error', 'e'))).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Error>e</Error>');
  });
});

describe('escapeXml', () => {
  it('escapes markup, quotes and control characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    expect(escapeXml('a\u0001b\rc\nd\te')).toBe('a&#x1;b&#xd;c\nd\te');
    expect(escapeXml('€ 😀')).toBe('€ 😀');
  });
});

describe('isoTime', () => {
  it('is ISO 8601 with milliseconds, in UTC', () => {
    expect(isoTime(Date.UTC(2026, 11, 1, 19, 53, 16))).toBe('2026-12-01T19:53:16.000Z');
  });
});
