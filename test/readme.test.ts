/**
 * The README is read on its own, from a clone: every file it points at must be in the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/coordinator.js';

const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

/** pathsNamed lists the repository paths the README names in backticks or links (docs/…, scripts/…, test/…, ../…). */
function pathsNamed(text: string): string[] {
  const named = [...text.matchAll(/`((?:\.\.\/|docs\/|scripts\/|examples\/|test\/fixtures\/)[^`\s]*)`|\]\(((?!https?:)[^)#\s]+)\)/g)];
  return [...new Set(named.map((m) => (m[1] ?? m[2])!))];
}

describe('README.md', () => {
  it('points only at files inside the repository, each of which exists', () => {
    const named = pathsNamed(readme);
    expect(named).toContain('docs/codedeploy-semantics.md');
    expect(named.filter((p) => p.startsWith('../'))).toEqual([]);
    expect(named.filter((p) => !fs.existsSync(path.join(REPO_ROOT, p.replace(/\{.*\}$/, ''))))).toEqual([]);
  });
});
