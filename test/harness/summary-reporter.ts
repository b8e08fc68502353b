/**
 * A vitest reporter that ends the run with one plain line, `tests: N passed, N failed, N skipped`,
 * which CI reads as the suite's result whatever reporter prints above it; when suites were skipped
 * for want of system tools (see system-tools.ts), a second line names the Debian packages to install.
 */
import type { Reporter, TestCase, TestModule } from 'vitest/node';
import { MISSING_PACKAGES_META } from './system-tools.js';

/** missingPackagesOf is what the test's nearest marked suite says it lacked, if anything. */
function missingPackagesOf(test: TestCase): string[] {
  const own = test.meta()[MISSING_PACKAGES_META];
  if (own) return own;
  for (let node = test.parent; node.type === 'suite'; node = node.parent) {
    const packages = node.meta()[MISSING_PACKAGES_META];
    if (packages) return packages;
  }
  return [];
}

/** skipLine is the one line that says how many tests a fresh machine skipped and what would run them. */
export function skipLine(count: number, packages: ReadonlySet<string>): string | undefined {
  if (count === 0) return undefined;
  const list = [...packages].sort().join(' ');
  return `skipped ${count} test${count === 1 ? '' : 's'} that need system tools not installed here; to run them: apt-get install ${list}`;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    let skippedForTools = 0;
    const packages = new Set<string>();
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          const missing = missingPackagesOf(test);
          if (missing.length > 0) skippedForTools++;
          for (const p of missing) packages.add(p);
        }
      }
      if (mod.state() === 'failed' && [...mod.children.allTests()].length === 0) failed++; // a file that failed to load
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    const line = skipLine(skippedForTools, packages);
    if (line) process.stdout.write(`${line}\n`);
  }
}
