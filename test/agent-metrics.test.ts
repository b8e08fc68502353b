/**
 * The agent's optional /metrics, scraped as a Prometheus on the host would: the built
 * `fleetdeploy-agent run` with `metrics_port` set, driven by a fake coordinator through a download, an
 * install and a hook that fails (its OnFailure hook runs), then the text checked by Prometheus' own
 * `promtool check metrics` (Debian package prometheus) and read series by series.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from './harness/eventually.js';
import { describeWithTools } from './harness/system-tools.js';
import { startFakeCoordinator } from '../packages/agent/src/testing/fake-coordinator.js';
import type { FakeCoordinator } from '../packages/agent/src/testing/fake-coordinator.js';
import { lifecycleCommand, revisionTar } from '../packages/agent/src/testing/daemon-fixtures.js';

const bin = path.resolve(import.meta.dirname, '../packages/agent/bin/fleetdeploy-agent.js');

/** sample is the value of one series (exact name and labels as written), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describeWithTools(['promtool'], 'fleetdeploy-agent metrics_port', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-agent-metrics-'));
  let fake: FakeCoordinator;
  let agent: ChildProcess;
  let stderr = '';
  let url: string;
  let text: string;
  const bytes = revisionTar({
    'appspec.yml': 'version: 0.0\nos: linux\nhooks:\n  BeforeInstall:\n    - location: scripts/ok.sh\n  AfterInstall:\n    - location: scripts/fail.sh\n  OnFailure:\n    - location: scripts/ok.sh\n',
    'scripts/ok.sh': '#!/bin/sh\nexit 0\n',
    'scripts/fail.sh': '#!/bin/sh\necho broken >&2\nexit 2\n',
  });

  beforeAll(async () => {
    fake = await startFakeCoordinator();
    const config = path.join(work, 'agent.yml');
    fs.writeFileSync(config, `root_dir: ${work}/root\ncoordinator: ${fake.address}\ninstance_name: metrics-host\nplaintext: true\nmetrics_port: 0\n`);
    agent = spawn(process.execPath, [bin, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    agent.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    url = await eventually(() => /"metrics":"(http:\/\/127\.0\.0\.1:\d+\/metrics)"/.exec(stderr)?.[1] ?? Promise.reject(new Error(`no metrics line yet: ${stderr}`)), 10_000);
    await eventually(() => expect(fake.hellos).toHaveLength(1), 10_000);
    fake.serveBundle('c-dl', { bytes });
    for (const [id, event, status] of [['c-dl', 'DownloadBundle', 'COMMAND_STATUS_SUCCEEDED'], ['c-bi', 'BeforeInstall', 'COMMAND_STATUS_SUCCEEDED'], ['c-in', 'Install', 'COMMAND_STATUS_SUCCEEDED'], ['c-ai', 'AfterInstall', 'COMMAND_STATUS_FAILED']] as const) {
      fake.command(lifecycleCommand(id, event, bytes));
      await eventually(() => expect(fake.results().filter((r) => r.commandId === id).map((r) => r.status)).toEqual([status]), 10_000);
    }
    expect(fake.results().find((r) => r.commandId === 'c-ai')?.onFailure?.status).toBe('COMMAND_STATUS_SUCCEEDED');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  }, 60_000);
  afterAll(async () => {
    if (agent !== undefined && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((resolve) => agent.once('exit', resolve));
    }
    await fake?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("passes Prometheus' own format check; its naming lint finds nothing in the agent's own series", () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // 1 would be a text it cannot parse; 3 lists lint problems, of which prom-client's Node.js gauges named *_total have one that is not ours.
    expect([0, 3], r.stdout + r.stderr).toContain(r.status);
    expect((r.stdout + r.stderr).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('fleetdeploy_agent_nodejs_'))).toEqual([]);
  });

  it('counts events by event and status (OnFailure too), times them, and counts the bundle bytes', () => {
    expect(sample(text, 'fleetdeploy_agent_events_total{event="DownloadBundle",status="Succeeded"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agent_events_total{event="BeforeInstall",status="Succeeded"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agent_events_total{event="AfterInstall",status="Failed"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agent_events_total{event="OnFailure",status="Succeeded"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agent_event_duration_seconds_count{event="Install"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agent_event_duration_seconds_bucket{le="3600",event="AfterInstall"}')).toBe(1);
    expect(sample(text, 'fleetdeploy_agent_bundle_downloaded_bytes_total')).toBe(bytes.length);
    expect(sample(text, 'fleetdeploy_agent_process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
  });

  it('listens on 127.0.0.1 only and serves /metrics only', async () => {
    const port = Number(new URL(url).port);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    // The kernel's table of listening sockets (state 0A) names every address the port is bound on.
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const listening = ['/proc/net/tcp', '/proc/net/tcp6']
      .filter((f) => fs.existsSync(f))
      .flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n').slice(1))
      .map((l) => l.trim().split(/\s+/))
      .filter((cols) => cols[1]!.endsWith(`:${hex}`) && cols[3] === '0A')
      .map((cols) => cols[1]);
    expect(listening).toEqual([`0100007F:${hex}`]);
  });
});
