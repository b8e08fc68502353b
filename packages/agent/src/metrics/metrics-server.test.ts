import { afterEach, describe, expect, it } from 'vitest';
import { createAgentMetrics } from './agent-metrics.js';
import type { AgentMetrics } from './agent-metrics.js';
import { startMetricsServer } from './metrics-server.js';
import type { MetricsServer } from './metrics-server.js';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('the agent metrics server', () => {
  it('serves GET and HEAD /metrics, and 404 for anything else', async () => {
    const metrics = createAgentMetrics();
    metrics.eventFinished('Install', 'Succeeded', 0.2);
    metrics.bundleBytes(0); // nothing received: the counter does not move
    const server = await startMetricsServer(metrics, 0);
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    const text = await (await fetch(`${base}/metrics?x=1`)).text();
    expect(text).toContain('fleetdeploy_agent_events_total{event="Install",status="Succeeded"} 1');
    expect(text).toContain('fleetdeploy_agent_bundle_downloaded_bytes_total 0');
    expect((await fetch(`${base}/metrics`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/`)).status).toBe(404);
  });

  it('refuses a port in use with a message naming metrics_port', async () => {
    const first = await startMetricsServer(createAgentMetrics(), 0);
    servers.push(first);
    await expect(startMetricsServer(createAgentMetrics(), first.port)).rejects.toThrow(`cannot serve metrics on 127.0.0.1 port ${first.port} (metrics_port): another process uses it`);
  });

  it('answers 500 with the reason when the metrics cannot be rendered', async () => {
    const broken: AgentMetrics = { contentType: 'text/plain', eventFinished: () => undefined, bundleBytes: () => undefined, render: () => Promise.reject(new Error('collector failed')) };
    const server = await startMetricsServer(broken, 0);
    servers.push(server);
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('500: collector failed\n');
  });
});
