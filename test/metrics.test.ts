/**
 * The coordinator's /metrics, scraped as Prometheus scrapes it: a real coordinator with three real
 * agents admitted at one stream a second (so some are told to back off), a deployment through the
 * stock AWS CLI, then the exposition text checked by Prometheus' own `promtool check metrics`
 * (Debian package prometheus) and read series by series.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import { FleetWorld } from './fleet/fleet-world.js';
import { describeWithTools } from './harness/system-tools.js';
import { probeBundle } from './harness/bundles.js';

/** sample is the value of one series (exact name and labels as written), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describeWithTools(['aws', 'promtool'], 'GET /metrics', () => {
  const world = new FleetWorld();
  let text: string;
  let bundleBytes: number;

  beforeAll(async () => {
    const config = path.join(world.dir, 'coordinator.yml');
    fs.writeFileSync(config, 'streams_per_second: 1\n');
    await world.start(3, ['--config', config]);
    await world.group('all', 'CodeDeployDefault.AllAtOnce');
    const key = await world.upload(probeBundle(world.journal('m')));
    bundleBytes = fs.statSync(path.join(world.dir, 'bundles', key)).size;
    const id = await world.deploy('all', key);
    expect((await world.finished(id, 90_000)).status, await world.failures(id)).toBe('Succeeded');
    await world.cli(['deploy', 'get-application', '--application-name', 'no-such-app']);
    const res = await fetch(`${world.coordinator.apiUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  }, 180_000);
  afterAll(() => world.stop());

  it("passes Prometheus' own format check; its naming lint finds nothing in fleetdeploy's own series", () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // 1 would be a text it cannot parse; 3 lists lint problems, of which prom-client's Node.js gauges
    // named *_total have one that is not ours to fix.
    expect([0, 3], r.stdout + r.stderr).toContain(r.status);
    const problems = (r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '');
    expect(problems.filter((l) => !l.startsWith('fleetdeploy_nodejs_'))).toEqual([]);
  });

  it('counts deployments by status, connected agents and the bucket bytes at scrape time', () => {
    expect(sample(text, 'fleetdeploy_deployments{status="Succeeded"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agents_connected')).toBe(3);
    expect(sample(text, 'fleetdeploy_bucket_bytes')).toBe(bundleBytes);
  });

  it('names the replica that answered, as /healthz does, and counts the live replicas it sees: itself alone', async () => {
    const health = (await (await fetch(`${world.coordinator.apiUrl}/healthz`)).json()) as { replica: string };
    expect(sample(text, `fleetdeploy_replica_info{replica="${health.replica}"}`)).toBe(1);
    expect(text.split('\n').filter((l) => l.startsWith('fleetdeploy_replica_info{'))).toHaveLength(1);
    expect(sample(text, 'fleetdeploy_replicas_live')).toBe(1);
    expect(sample(text, 'fleetdeploy_replica_leases')).toBe(0);
  });

  it('counts API requests by operation and outcome, refusals by their error type', () => {
    expect(sample(text, 'fleetdeploy_api_requests_total{operation="CreateDeployment",outcome="ok"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_api_requests_total{operation="GetApplication",outcome="ApplicationDoesNotExistException"}')).toBe(1);
  });

  it('times each lifecycle event on the instances, by event and status', () => {
    expect(sample(text, 'fleetdeploy_lifecycle_event_duration_seconds_count{event="BeforeInstall",status="Succeeded"}')).toBe(3);
    // the probe bundle's BeforeInstall sleeps 0.3 s on each host
    expect(sample(text, 'fleetdeploy_lifecycle_event_duration_seconds_sum{event="BeforeInstall",status="Succeeded"}')).toBeGreaterThanOrEqual(0.9);
    expect(sample(text, 'fleetdeploy_lifecycle_event_duration_seconds_count{event="Install",status="Succeeded"}')).toBe(3);
  });

  it('counts agent streams refused by the admission rate, SQLite transaction time and the process', () => {
    expect(sample(text, 'fleetdeploy_agent_streams_refused_total')).toBeGreaterThan(0);
    expect(sample(text, 'fleetdeploy_sqlite_transaction_duration_seconds_count')).toBeGreaterThan(10);
    expect(sample(text, 'fleetdeploy_process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
  });
});

describe('GET /metrics with metrics_token', () => {
  it('needs the bearer token when one is configured, compared whole', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-metrics-'));
    const config = path.join(dir, 'coordinator.yml');
    fs.writeFileSync(config, 'metrics_token: s3cret-token\n');
    const coordinator = await startCoordinator({ args: ['--config', config] });
    try {
      const url = `${coordinator.apiUrl}/metrics`;
      const without = await fetch(url);
      expect(without.status).toBe(401);
      expect(await without.text()).toBe('401: /metrics needs Authorization: Bearer <metrics_token>\n');
      expect((await fetch(url, { headers: { authorization: 'Bearer s3cret-toke' } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer s3cret-tokenX' } })).status).toBe(401);
      const ok = await fetch(url, { headers: { authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('\nfleetdeploy_agents_connected 0\n');
    } finally {
      await coordinator.stop();
    }
  }, 60_000);
});
