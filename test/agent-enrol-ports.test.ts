/**
 * `fleetdeploy-agent enrol` given the wrong one of the coordinator's three ports: the agents' port
 * (the address agent.yml names) is recognised and the enrolment port next to it used; the API port, or
 * an agents' port whose enrolment port is elsewhere, gets one line saying which port it is and what
 * to use. Without --coordinator the enrolment address comes from agent.yml.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CodeDeployClient, RegisterOnPremisesInstanceCommand } from '@aws-sdk/client-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { AGENT_BIN, enrol, mintToken, writeAgentConfig } from './harness/agents.js';
import type { Run } from './harness/agents.js';
import { execFile } from 'node:child_process';

/** freePortPair finds a free loopback port whose next port is free too (the agents' and the enrolment port). */
async function freePortPair(): Promise<number> {
  const free = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        const got = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(got));
      });
    });
  for (;;) {
    const port = await free(0);
    if (port !== undefined && port < 65535 && (await free(port + 1)) !== undefined) return port;
  }
}

function enrolWithout(configFile: string, token: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AGENT_BIN, 'enrol', '--token', token, '--config', configFile], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });
}

describe('enrolling at the wrong port', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-enrol-ports-'));
  let coordinator: CoordinatorProcess;
  let agentPort: number;

  beforeAll(async () => {
    agentPort = await freePortPair();
    coordinator = await startCoordinator({ agentPort }); // enrolment port: agentPort + 1 (the default)
    const sdk = new CodeDeployClient({ endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials });
    for (const name of ['web-1', 'web-2', 'web-3']) await sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: name, iamUserArn: `arn:aws:iam::000000000000:user/${name}` }));
    sdk.destroy();
  }, 60_000);
  afterAll(async () => {
    await coordinator?.stop();
  });

  it('names the API port in one line and enrols nothing', async () => {
    const host = writeAgentConfig('web-1', coordinator.agentAddress, dir);
    const r = await enrol(host.configFile, new URL(coordinator.apiUrl).host, await mintToken(coordinator, 'web-1'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`ERROR: ${new URL(coordinator.apiUrl).host} answers HTTP, not gRPC: it is the coordinator's API port, not its enrolment port; use --coordinator with the enrol= address of its listening line (by default 127.0.0.1:7182)\n`);
    expect(fs.existsSync(path.join(host.tlsDir, 'cert.pem'))).toBe(false);
  });

  it('recognises the agents\' port and enrols at the enrolment port next to it', async () => {
    expect(coordinator.enrolAddress).toBe(`127.0.0.1:${agentPort + 1}`);
    const host = writeAgentConfig('web-2', coordinator.agentAddress, dir);
    const r = await enrol(host.configFile, coordinator.agentAddress, await mintToken(coordinator, 'web-2'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`note: ${coordinator.agentAddress} is the coordinator's agents' port; enrolled at its enrolment port ${coordinator.enrolAddress}`);
    expect(r.stdout).toMatch(/^enrolled as web-2: /m);
  });

  it('without --coordinator, enrols at agent.yml\'s coordinator host, its port + 1', async () => {
    const host = writeAgentConfig('web-3', coordinator.agentAddress, dir);
    const r = await enrolWithout(host.configFile, await mintToken(coordinator, 'web-3'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^enrolled as web-3: /);
  });
});

describe('an agents\' port whose enrolment port is not next to it', () => {
  it('gets one line naming the port and what to use, not an OpenSSL error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-enrol-ports-'));
    const coordinator = await startCoordinator(); // agents' and enrolment ports both picked at random
    try {
      const sdk = new CodeDeployClient({ endpoint: coordinator.apiUrl, region: 'us-east-1', credentials: coordinator.credentials });
      await sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName: 'db-1', iamUserArn: 'arn:aws:iam::000000000000:user/db-1' }));
      sdk.destroy();
      const host = writeAgentConfig('db-1', coordinator.agentAddress, dir);
      const [, port] = coordinator.agentAddress.split(':');
      const r = await enrol(host.configFile, coordinator.agentAddress, await mintToken(coordinator, 'db-1'));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`ERROR: ${coordinator.agentAddress} asks for a client certificate: it is the coordinator's agents' port, not its enrolment port; use --coordinator 127.0.0.1:${Number(port) + 1} (the agents' port + 1 by default, enrol= in its listening line)\n`);
    } finally {
      await coordinator.stop();
    }
  });
});
