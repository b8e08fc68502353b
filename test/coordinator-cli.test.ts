/**
 * fleetdeploy-coordinator serve as an operator meets it: it starts on free ports, answers /healthz,
 * stops on SIGTERM, and a mistake prints one ERROR line (no stack) and exits 1.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';

function serve(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // A start that fails must also end the process: a hang is killed and reported as such.
    execFile(process.execPath, [COORDINATOR_BIN, 'serve', ...args], { timeout: 8_000 }, (err, stdout, stderr) => {
      const e = err as { code?: number; killed?: boolean } | null;
      resolve({ code: e ? (e.killed ? -1 : (e.code ?? -2)) : 0, stdout, stderr });
    });
  });
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'fd-coord-cli-'));

describe('fleetdeploy-coordinator serve', () => {
  it('serves /healthz and stops cleanly on SIGTERM', async () => {
    const c = await startCoordinator();
    const health = await fetch(`${c.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(JSON.parse(fs.readFileSync(path.join(c.dataDir, 'endpoints.json'), 'utf8'))).toMatchObject({ apiUrl: c.apiUrl, agentAddress: c.agentAddress });
    expect(await c.stop('SIGTERM')).toBe(0);
    expect(c.logs()).toContain('coordinator stopped');
  });

  it.each([
    ['an unknown setting in the file', (dir: string) => { fs.writeFileSync(path.join(dir, 'c.yml'), 'api_prot: 1\n'); return ['--config', path.join(dir, 'c.yml')]; }, /api_prot: unknown setting/],
    ['a bad port flag', () => ['--port', 'eighty'], /--api-port: expected a port number/],
    ['a missing configuration file', (dir: string) => ['--config', path.join(dir, 'nope.yml')], /cannot read the configuration file .*nope\.yml: ENOENT/],
    ['a data directory that is a file', (dir: string) => { fs.writeFileSync(path.join(dir, 'file'), ''); return ['--data-dir', path.join(dir, 'file'), '--port', '0', '--agent-port', '0']; }, /cannot use the data directory .*file/],
  ])('refuses %s with one ERROR line', async (_what, args, message) => {
    const dir = tmp();
    const r = await serve(args(dir));
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ERROR: /);
    expect(lines[0]).toMatch(message);
  });

  it('names the port when it is taken', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    const r = await serve(['--data-dir', tmp(), '--port', String(port), '--agent-port', '0']);
    holder.close();
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(new RegExp(`^ERROR: cannot listen on 127\\.0\\.0\\.1 port ${port}`));
  });
});
