/**
 * The README's Prometheus scrape configuration, as written (scheme https, the coordinator's CA as
 * ca_file), run by a real Prometheus against a real coordinator: the target is up and its series
 * are stored. Only the target's address and the CA file's path are this test's own.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { describeWithTools } from './harness/system-tools.js';
import { eventually } from './harness/eventually.js';

/** readmeScrapeConfig is the scrape_configs part of the README's prometheus.yml example (before its alert rules). */
function readmeScrapeConfig(): string {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const block = /```yaml\n# prometheus\.yml\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no ```yaml block starting "# prometheus.yml"');
  return block.slice(0, block.indexOf('# alert rules'));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describeWithTools(['prometheus'], 'Prometheus scraping /metrics over HTTPS', () => {
  let coordinator: CoordinatorProcess;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-prom-'));
  let prometheus: ReturnType<typeof spawn> | undefined;
  beforeAll(async () => {
    coordinator = await startCoordinator();
  }, 60_000);
  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await coordinator?.stop();
  });

  it('with the README\'s scrape configuration, the coordinator is an up target and its series are stored', async () => {
    const scrape = readmeScrapeConfig();
    expect(scrape).toMatch(/scheme: https/);
    const config = `global: { scrape_interval: 1s, scrape_timeout: 1s }\n${scrape
      .replace('/etc/prometheus/fleetdeploy-ca.pem', coordinator.caFile)
      .replace('coordinator.example:7180', new URL(coordinator.apiUrl).host)}`;
    fs.writeFileSync(path.join(work, 'prometheus.yml'), config);
    const webPort = await freePort();
    let log = '';
    prometheus = spawn('prometheus', ['--config.file', path.join(work, 'prometheus.yml'), '--storage.tsdb.path', path.join(work, 'tsdb'), '--web.listen-address', `127.0.0.1:${webPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
    const api = (query: string): Promise<any> => fetch(`http://127.0.0.1:${webPort}/api/v1/${query}`).then((r) => r.json()); // eslint-disable-line @typescript-eslint/no-explicit-any
    const target = await eventually(async () => {
      const t = (await api('targets')).data.activeTargets[0];
      if (t?.health !== 'up') throw new Error(`target not up yet: ${JSON.stringify(t)}\n${log.slice(-2000)}`);
      return t;
    }, 30_000, 250);
    expect(target.scrapeUrl).toBe(`${coordinator.apiUrl}/metrics`);
    const series = await eventually(async () => {
      const r = (await api('query?query=fleetdeploy_agents_connected')).data.result;
      if (r.length === 0) throw new Error('not stored yet');
      return r;
    }, 10_000, 250);
    expect(series[0].value[1]).toBe('0');
  });
});
