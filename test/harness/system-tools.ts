/**
 * The system tools some tests drive for real, each with the Debian package that provides it.
 *
 * On a fresh machine with only Node and npm these tools are absent, and the README's `npm test` must
 * still pass: a suite that needs one is skipped, and the summary reporter ends the run with one line
 * naming the packages that would run it. `.ci/run` installs them all and sets
 * FLEETDEPLOY_REQUIRE_SYSTEM_TOOLS=1, under which a missing tool fails its suite instead, so CI never
 * passes by skipping.
 */
import { findExecutable } from '@fleetdeploy/shared';
import { describe, it } from 'vitest';

/**
 * SYSTEM_TOOLS maps each tool to how it is found and the package that installs it: a Debian package,
 * or for moto (which Debian does not package) the Python package, written `pip:<name>`.
 */
export const SYSTEM_TOOLS = {
  setfacl: { command: 'setfacl', package: 'acl' },
  getfacl: { command: 'getfacl', package: 'acl' },
  zip: { command: 'zip', package: 'zip' },
  unzip: { command: 'unzip', package: 'unzip' },
  tmux: { command: 'tmux', package: 'tmux' },
  // The stock AWS CLI as Debian ships it; another `aws` earlier on PATH (a pip install) is not used.
  aws: { command: process.env.FLEETDEPLOY_AWS_CLI ?? '/usr/bin/aws', package: 'awscli' },
  haproxy: { command: 'haproxy', package: 'haproxy' },
  // Checks the unit files install-service writes.
  'systemd-analyze': { command: 'systemd-analyze', package: 'systemd' },
  // Prometheus' own checker of the exposition format the coordinator's /metrics serves.
  promtool: { command: 'promtool', package: 'prometheus' },
  // Prometheus itself, scraping /metrics over HTTPS with the README's scrape configuration.
  prometheus: { command: 'prometheus', package: 'prometheus' },
  // A real headless browser for the web console's tests (driven by playwright-core, which brings no browser).
  chromium: { command: '/usr/bin/chromium', package: 'chromium' },
  // moto in server mode plays Lambda, CloudWatch and the other AWS APIs that cannot be reached from here.
  moto_server: { command: 'moto_server', package: 'pip:moto[server]' },
  // A real PostgreSQL server for the PgStore's contract suite; Debian 12 ships version 15.
  postgres: { command: '/usr/lib/postgresql/15/bin/postgres', package: 'postgresql' },
} as const;

export type SystemTool = keyof typeof SYSTEM_TOOLS;

/** REQUIRE_ENV is the variable under which a missing tool fails instead of skipping. */
export const REQUIRE_ENV = 'FLEETDEPLOY_REQUIRE_SYSTEM_TOOLS';

/** The meta key a skipped suite carries, read by the summary reporter. */
export const MISSING_PACKAGES_META = 'missingDebianPackages';

declare module 'vitest' {
  interface TaskMeta {
    [MISSING_PACKAGES_META]?: string[];
  }
}

const found = new Map<string, boolean>();

/** onPath tells whether a command runs here: an absolute path must be executable, a bare name on PATH. */
function onPath(command: string): boolean {
  const known = found.get(command);
  if (known !== undefined) return known;
  const ok = findExecutable(command) !== undefined;
  found.set(command, ok);
  return ok;
}

/** missingTools lists the tools of `tools` that are not installed here. */
export function missingTools(tools: readonly SystemTool[]): SystemTool[] {
  return tools.filter((tool) => !onPath(SYSTEM_TOOLS[tool].command));
}

/** packagesFor names the Debian packages that install `tools`, each once, in order. */
export function packagesFor(tools: readonly SystemTool[]): string[] {
  return [...new Set(tools.map((tool) => SYSTEM_TOOLS[tool].package))];
}

/** hasTools tells whether every tool of `tools` is installed. */
export function hasTools(...tools: SystemTool[]): boolean {
  return missingTools(tools).length === 0;
}

/** toolsRequired tells whether this run must have every tool (CI). */
export function toolsRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[REQUIRE_ENV] === '1' || env[REQUIRE_ENV] === 'true';
}

/** failForMissing is what a test that lacks its tools does when CI requires them all. */
function failForMissing(missing: readonly SystemTool[]): never {
  throw new Error(`${missing.join(', ')} not installed (packages: ${packagesFor(missing).join(' ')}), and ${REQUIRE_ENV}=1 forbids skipping`);
}

/**
 * describeWithTools is `describe` for a suite that needs system tools. Without them, the suite is
 * skipped (its hooks do not run) and marked with the missing packages for the summary line; under
 * FLEETDEPLOY_REQUIRE_SYSTEM_TOOLS=1 it becomes one failing test that names them.
 */
export function describeWithTools(tools: readonly SystemTool[], name: string, body: () => void): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const packages = packagesFor(missing);
  if (toolsRequired()) {
    describe(name, () => {
      it('has the system tools it needs', () => failForMissing(missing));
    });
    return;
  }
  describe(name, { skip: true, meta: { [MISSING_PACKAGES_META]: packages } }, body);
}

/** itWithTools is `it` for one test that needs system tools, skipped or failed as {@link describeWithTools} says. */
export function itWithTools(tools: readonly SystemTool[], name: string, fn: () => unknown, timeout?: number): void {
  const missing = missingTools(tools);
  if (missing.length === 0) {
    it(name, fn, timeout);
    return;
  }
  const packages = packagesFor(missing);
  if (toolsRequired()) {
    it(name, () => failForMissing(missing));
    return;
  }
  it(name, { skip: true, meta: { [MISSING_PACKAGES_META]: packages } }, fn);
}
