/**
 * The conformance cases: what the AWS CodeDeploy agent 1.8.1 did with each bundle (expected.json),
 * reproduced with real `fleetdeploy-agent local` processes, real scripts and real archives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformanceCase } from './harness/conformance-runner.js';

const root = path.join(import.meta.dirname, 'fixtures/conformance');
const expected = JSON.parse(fs.readFileSync(path.join(root, 'expected.json'), 'utf8')) as Record<string, { escaped: boolean; steps: unknown; hooks: string[]; tree: string[] }>;

describe('conformance with the AWS agent', () => {
  for (const name of Object.keys(expected).sort()) {
    it(`${name} has the outcome the AWS agent had`, () => {
      const want = expected[name]!;
      const got = runConformanceCase(path.join(root, 'cases', name));
      expect(got.steps).toEqual(want.steps);
      expect(got.hooks).toEqual(want.hooks);
      expect(got.tree).toEqual(want.tree);
      expect(got.escaped).toBe(want.escaped);
    });
  }
});
