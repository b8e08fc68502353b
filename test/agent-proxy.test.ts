/**
 * The agent behind an HTTP CONNECT proxy, as on a host whose only way out is a corporate proxy:
 * a tiny proxy written here on loopback counts the tunnels it opens. An agent with `proxy_uri`
 * enrols (the CA pin and the Enrol call) and keeps its stream through it and takes a deployment;
 * an agent whose NO_PROXY names the coordinator goes around the same kind of proxy.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from './harness/system-tools.js';
import { FleetWorld, statusesOf } from './fleet/fleet-world.js';
import { startAgent } from './harness/agents.js';
import type { AgentProcess, AgentOptions } from './harness/agents.js';
import { probeBundle } from './harness/bundles.js';
import { eventually } from './harness/eventually.js';

/** ConnectProxy is a minimal HTTP CONNECT proxy that only tunnels to loopback and counts its tunnels by target. */
interface ConnectProxy {
  uri: string;
  tunnels: Map<string, number>;
  total(): number;
  close(): Promise<void>;
}

async function startConnectProxy(): Promise<ConnectProxy> {
  const tunnels = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    const m = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(target);
    if (m === null) return client.end('HTTP/1.1 403 Forbidden\r\n\r\n'); // never leaves loopback
    tunnels.set(target, (tunnels.get(target) ?? 0) + 1);
    const upstream = net.connect(Number(m[2]), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => (s === client ? upstream : client).destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    total: () => [...tunnels.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const connected = (agent: AgentProcess): boolean => agent.logs().includes('"msg":"connected to coordinator"');

describeWithTools(['aws'], 'the agent behind an HTTP CONNECT proxy', () => {
  const world = new FleetWorld();
  let proxy: ConnectProxy;
  let bypassed: ConnectProxy;
  beforeAll(async () => {
    [proxy, bypassed] = await Promise.all([startConnectProxy(), startConnectProxy()]);
    await world.start(0);
  }, 90_000);
  afterAll(async () => {
    await world.stop();
    await Promise.all([proxy?.close(), bypassed?.close()]);
  });

  async function host(name: string, options: AgentOptions): Promise<AgentProcess> {
    await world.cliOk(['deploy', 'register-on-premises-instance', '--instance-name', name, '--iam-user-arn', `arn:aws:iam::000000000000:user/${name}`]);
    await world.cliOk(['deploy', 'add-tags-to-on-premises-instances', '--instance-names', name, '--tags', `Key=host,Value=${name}`]);
    const agent = await startAgent(name, world.coordinator, world.dir, options);
    world.agents.push(agent);
    await eventually(() => expect(connected(agent)).toBe(true), 20_000);
    return agent;
  }

  async function deployTo(name: string, agent: AgentProcess): Promise<void> {
    await world.group(`g-${name}`, 'CodeDeployDefault.AllAtOnce', ['--on-premises-instance-tag-filters', `Key=host,Value=${name},Type=KEY_AND_VALUE`]);
    const id = await world.deploy(`g-${name}`, await world.upload(probeBundle(world.journal(name), { destination: `/srv/${name}` })));
    const d = await world.finished(id, 60_000);
    expect(d.status, await world.failures(id)).toBe('Succeeded');
    expect(statusesOf(await world.targets(id))).toEqual({ [name]: 'Succeeded' });
    expect(fs.existsSync(path.join(agent.filesDir, `srv/${name}`))).toBe(true);
  }

  it('enrols, streams and deploys through proxy_uri', async () => {
    const agent = await host('px-1', { config: [`proxy_uri: ${proxy.uri}`] });
    // The enrolment port was reached through the proxy (CA pin, then the Enrol call), and so was the agents' port.
    expect(proxy.tunnels.get(world.coordinator.enrolAddress) ?? 0).toBeGreaterThanOrEqual(2);
    expect(proxy.tunnels.get(world.coordinator.agentAddress) ?? 0).toBeGreaterThanOrEqual(1);
    expect(agent.logs()).toContain(`"proxy":"${proxy.uri.slice('http://'.length)} (proxy_uri)"`);
    await deployTo('px-1', agent);
  }, 120_000);

  it('goes around the proxy for a coordinator that NO_PROXY names', async () => {
    const agent = await host('px-2', { config: [`proxy_uri: ${bypassed.uri}`], env: { NO_PROXY: 'localhost,127.0.0.1' } });
    await deployTo('px-2', agent);
    expect(bypassed.total()).toBe(0);
  }, 120_000);
});
