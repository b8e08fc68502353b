/**
 * The conformance cases: what the AWS CodeDeploy agent 1.8.1 did with each bundle (expected.json),
 * reproduced with real `fleetdeploy-agent local` processes, real scripts and real archives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { runConformanceCase } from './harness/conformance-runner.js';
import { itWithTools } from './harness/system-tools.js';
import type { SystemTool } from './harness/system-tools.js';

const root = path.join(import.meta.dirname, 'fixtures/conformance');
/** toolsFor names what a case's bundles need beyond Node: zip bundles are made with Info-ZIP's `zip`, as the AWS agent's were. */
function toolsFor(caseDir: string): SystemTool[] {
  const spec = JSON.parse(fs.readFileSync(path.join(caseDir, 'case.json'), 'utf8')) as { deployments: { type?: string }[] };
  return spec.deployments.some((d) => d.type === 'zip') ? ['zip'] : [];
}

const expected = JSON.parse(fs.readFileSync(path.join(root, 'expected.json'), 'utf8')) as Record<string, { escaped: boolean; steps: unknown; hooks: string[]; tree: string[] }>;

describe('conformance with the AWS agent', () => {
  // The score line of the shared harness's compare.mjs; a case skipped for want of a tool does not match.
  let matched = 0;
  afterAll(() => console.log(`conformance: ${matched}/${Object.keys(expected).length} cases match`));
  for (const name of Object.keys(expected).sort()) {
    itWithTools(toolsFor(path.join(root, 'cases', name)), `${name} has the outcome the AWS agent had`, () => {
      const want = expected[name]!;
      const got = runConformanceCase(path.join(root, 'cases', name));
      expect(got.steps).toEqual(want.steps);
      expect(got.hooks).toEqual(want.hooks);
      expect(got.tree).toEqual(want.tree);
      expect(got.escaped).toBe(want.escaped);
      matched++;
    });
  }
});
