import { describe, expect, it } from 'vitest';
import { MAX_LINK_HOPS } from '../bundle/entry-guard.js';
import { escapeFromRoot } from './link-containment.js';

const R = '/sim/host-7';
/** A host where `links` (absolute path → link text) are the only symbolic links. */
const host = (links: Record<string, string> = {}) => (p: string) => links[p];

describe('escapeFromRoot', () => {
  it('accepts a relative link that stays inside the root where it is installed', () => {
    expect(escapeFromRoot(`${R}/srv/a/l`, '../../x', R, host())).toBeUndefined();
    expect(escapeFromRoot(`${R}/srv/a/l`, 'sub/./f.txt', R, host())).toBeUndefined();
    expect(escapeFromRoot(`${R}/l`, 'x/../y', R, host())).toBeUndefined();
  });

  it('refuses the same link text installed nearer the root, where it climbs above it', () => {
    expect(escapeFromRoot(`${R}/a/l`, '../../x', R, host())).toBe('its target climbs above the root');
    expect(escapeFromRoot(`${R}/l`, '../x', R, host())).toBe('its target climbs above the root');
  });

  it('refuses a climb above the root even when later steps would come back in', () => {
    expect(escapeFromRoot(`${R}/a/l`, '../../host-7/a/x', R, host())).toBe('its target climbs above the root');
  });

  it('refuses an absolute target outside the root, including one that only shares its first letters', () => {
    const absolute = "its target is absolute, and an absolute target is read from the host's /, not from destination_root";
    expect(escapeFromRoot(`${R}/srv/l`, '/etc/passwd', R, host())).toBe(absolute);
    expect(escapeFromRoot(`${R}/srv/l`, '/sim/host-70/x', R, host())).toBe(absolute);
    expect(escapeFromRoot(`${R}/srv/l`, '/sim', R, host())).toBe(absolute);
  });

  it('accepts an absolute target under the root, but walks its .. steps like any other', () => {
    expect(escapeFromRoot(`${R}/srv/l`, `${R}/srv/x`, R, host())).toBeUndefined();
    expect(escapeFromRoot(`${R}/srv/l`, `${R}/`, R, host())).toBeUndefined();
    expect(escapeFromRoot(`${R}/srv/l`, `${R}/../host-8/x`, R, host())).toBe('its target climbs above the root');
  });

  it('follows links on the way, which a lexical check would not: a -> d/l/../../.. with d/l -> ../../m', () => {
    // Lexically a's target is /sim/host-7/w/d/l/../../.. = the root; through d/l it is one level above.
    const links = { [`${R}/w/d/l`]: '../../m' };
    expect(escapeFromRoot(`${R}/w/a`, 'd/l/../../..', R, host(links))).toBe(`its target climbs above the root after following the symbolic link ${R}/w/d/l -> ../../m`);
    expect(escapeFromRoot(`${R}/w/a`, 'd/l/..', R, host(links))).toBeUndefined();
  });

  it('follows links in the folders the link is installed in', () => {
    expect(escapeFromRoot(`${R}/srv/www/l`, 'x', R, host({ [`${R}/srv`]: '/elsewhere' }))).toBe(
      `it goes through the symbolic link ${R}/srv -> /elsewhere, which points outside the root`,
    );
    // A folder link that stays inside moves the walk, and .. is then taken from where it points.
    const inside = { [`${R}/var/www`]: 'releases/7' };
    expect(escapeFromRoot(`${R}/var/www/l`, '../../x', R, host(inside))).toBeUndefined();
    expect(escapeFromRoot(`${R}/var/www/l`, '../../../../x', R, host(inside))).toBe(`its target climbs above the root after following the symbolic link ${R}/var/www -> releases/7`);
  });

  it('follows an absolute link under the root from the root', () => {
    const links = { [`${R}/current`]: `${R}/releases/7` };
    expect(escapeFromRoot(`${R}/srv/l`, '../current/../../../x', R, host(links))).toBe(`its target climbs above the root after following the symbolic link ${R}/current -> ${R}/releases/7`);
    expect(escapeFromRoot(`${R}/srv/l`, '../current/../../x', R, host(links))).toBeUndefined();
  });

  it('refuses a circular chain and one longer than the kernel follows', () => {
    const circular = { [`${R}/a`]: 'b', [`${R}/b`]: 'a' };
    expect(escapeFromRoot(`${R}/l`, 'a', R, host(circular))).toBe(`its chain of symbolic links is circular or longer than ${MAX_LINK_HOPS} links`);
    const long: Record<string, string> = {};
    for (let i = 0; i <= MAX_LINK_HOPS; i++) long[`${R}/c${i}`] = `c${i + 1}`;
    expect(escapeFromRoot(`${R}/l`, 'c0', R, host(long))).toMatch(/circular or longer than/);
    delete long[`${R}/c${MAX_LINK_HOPS}`];
    expect(escapeFromRoot(`${R}/l`, 'c0', R, host(long))).toBeUndefined();
  });

  it('takes the root as written, trailing slash or not', () => {
    expect(escapeFromRoot(`${R}/a/l`, '../x', `${R}/`, host())).toBeUndefined();
    expect(escapeFromRoot(`${R}/a/l`, '../../x', `${R}/`, host())).toBe('its target climbs above the root');
  });

  it('lets nothing escape a root of /, the host itself, where .. at the top stays there', () => {
    expect(escapeFromRoot('/srv/l', '/etc/passwd', '/', host())).toBeUndefined();
    expect(escapeFromRoot('/srv/l', '../../../x', '/', host())).toBeUndefined();
  });

  it('is a programming error for a link installed outside the root', () => {
    expect(() => escapeFromRoot('/elsewhere/l', 'x', R, host())).toThrow('/elsewhere/l is not under /sim/host-7');
  });
});
