/**
 * The daemons' usage mistakes as the `fleetdeploy` CLI prints them: one `ERROR:` line naming the
 * command's help, exit 1, never the whole help text.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { COORDINATOR_BIN } from './harness/coordinator.js';
import { AGENT_BIN } from './harness/agents.js';

function run(bin: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

describe('usage mistakes on the daemons\' command lines', () => {
  it.each([
    ['coordinator: a misspelt flag', COORDINATOR_BIN, ['serve', '--prot', '1'], "ERROR: unknown option '--prot'; did you mean --port? (see fleetdeploy-coordinator serve --help)"],
    ['coordinator: an unknown command', COORDINATOR_BIN, ['sevre'], "ERROR: unknown command 'sevre'; did you mean serve? (see fleetdeploy-coordinator --help)"],
    ['coordinator: a missing option of a nested command', COORDINATOR_BIN, ['keys', 'create'], "ERROR: required option '--role <role>' not specified (see fleetdeploy-coordinator keys create --help)"],
    ['agent: a missing option', AGENT_BIN, ['enrol', '--coordinator', 'coordinator.example'], "ERROR: required option '--token <token>' not specified (see fleetdeploy-agent enrol --help)"],
    ['agent: an unknown flag', AGENT_BIN, ['run', '--config', 'a.yml', '--verbos'], "ERROR: unknown option '--verbos'; did you mean --verbose? (see fleetdeploy-agent run --help)"],
    ['agent: an unknown command', AGENT_BIN, ['start'], "ERROR: unknown command 'start' (see fleetdeploy-agent --help)"],
  ])('%s: one ERROR line, exit 1', async (_what, bin, args, line) => {
    const r = await run(bin, args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`${line}\n`);
  });
});
