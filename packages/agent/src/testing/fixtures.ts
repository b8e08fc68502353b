/**
 * Builders for tests: temporary folders, small bundle trees and AppSpec objects, so each test states
 * only what matters to it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Permission, ServerAppSpec } from '@fleetdeploy/shared';

/** tempDir makes a fresh folder under the system temp folder; the caller removes it (or not). */
export function tempDir(prefix = 'fd-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** writeTree writes `{ 'a/b.txt': 'text' }` style trees; a value ending in '/' makes an empty folder. */
export function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    if (rel.endsWith('/')) {
      fs.mkdirSync(p, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

/** appSpec builds a valid Server AppSpec with the given parts. */
export function appSpec(parts: Partial<Omit<ServerAppSpec, 'kind' | 'version'>> = {}): ServerAppSpec {
  return { kind: 'server', version: 0, os: 'linux', files: [], permissions: [], hooks: {}, ...parts };
}

/** permission builds a permissions entry with the AppSpec defaults filled in. */
export function permission(object: string, parts: Partial<Permission> = {}): Permission {
  return { object, pattern: '**', except: [], types: ['file', 'directory'], ...parts };
}

/** listTree lists every path under root, relative and sorted, directories with a trailing '/'. */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const rel = path.relative(root, p);
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        walk(p);
      } else out.push(rel);
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}
