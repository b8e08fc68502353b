/**
 * Agent enrolment and mutual TLS with the real coordinator and real agent processes. Every way in
 * that the acceptance names is refused: no certificate, another instance's certificate, a certificate
 * from another CA, a used or expired token, a deregistered instance's agent. And a certificate with a
 * tiny validity is renewed before it runs out, with the agent staying connected and deployable.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithTools } from './harness/system-tools.js';
import { loadAgentProtocol } from '@fleetdeploy/protocol';
import type { CoordinatorMessage__Output } from '@fleetdeploy/protocol';
import { openAuthority, verifyCsr } from '../packages/coordinator/src/ca/authority.js';
import { FleetWorld, statusesOf } from './fleet/fleet-world.js';
import { enrol, mintToken, startAgent, writeAgentConfig } from './harness/agents.js';
import type { AgentProcess } from './harness/agents.js';
import { probeBundle } from './harness/bundles.js';
import { eventually } from './harness/eventually.js';

const proto = loadAgentProtocol();
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const connections = (agent: AgentProcess): number => agent.logs().split('\n').filter((l) => l.includes('"msg":"connected to coordinator"')).length;
const read = (dir: string, file: string): Buffer => fs.readFileSync(path.join(dir, file));

/** streamOutcome opens Connect with these credentials, says Hello as `name`, and resolves with the first Welcome or the stream's status. */
function streamOutcome(address: string, credentials: grpc.ChannelCredentials, name: string, metadataName = name): Promise<{ welcomed: boolean; code: number; details: string }> {
  const client = new proto.AgentService(address, credentials);
  const metadata = new grpc.Metadata();
  metadata.set('fleetdeploy-instance', metadataName);
  const call = client.Connect(metadata, { deadline: Date.now() + 10_000 });
  return new Promise((resolve) => {
    call.on('data', (m: CoordinatorMessage__Output) => {
      if (m.body === 'welcome') {
        call.cancel();
        resolve({ welcomed: true, code: 0, details: '' });
      }
    });
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => {
      client.close();
      resolve({ welcomed: false, code: s.code, details: s.details });
    });
    call.write({ hello: { instanceName: name, agentVersion: 'test', platform: 'linux', inFlight: [], unacknowledgedResults: [] } });
  });
}

// Both suites set up their fleet with the stock AWS CLI.
describeWithTools(['aws'], 'enrolment and mutual TLS', () => {
  const world = new FleetWorld();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-mtls-'));
  const caPem = (): Buffer => read(world.agent('sim-1').tlsDir, 'ca.pem');
  beforeAll(async () => {
    await world.start(3);
    await Promise.all(world.agents.map((a) => eventually(() => expect(connections(a)).toBe(1), 15_000)));
  }, 90_000);
  afterAll(() => world.stop());

  it("keeps each agent's key readable only by its owner, and the CA certificate is the coordinator's", () => {
    const tls = world.agent('sim-1').tlsDir;
    expect(fs.statSync(path.join(tls, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(fs.statSync(tls).mode & 0o777).toBe(0o700);
    expect(read(tls, 'ca.pem').toString()).toBe(fs.readFileSync(path.join(world.coordinator.dataDir, 'ca', 'ca.pem'), 'utf8'));
  });

  it('refuses a client without a certificate in the TLS handshake, and plain text too', async () => {
    for (const credentials of [grpc.credentials.createSsl(caPem()), grpc.credentials.createInsecure()]) {
      const r = await streamOutcome(world.coordinator.agentAddress, credentials, 'sim-1');
      expect(r.welcomed).toBe(false);
      expect(r.code).toBe(grpc.status.UNAVAILABLE);
    }
    // and the agent without a certificate does not start: it says how to enrol
    const bare = await startAgent('bare-1', world.coordinator, dir, { enrol: false });
    await new Promise((r) => bare.child.once('exit', r));
    expect(bare.child.exitCode).toBe(1);
    expect(bare.logs()).toMatch(/^ERROR: the agent is not enrolled .*fleetdeploy-agent enrol/m);
  });

  it("refuses a stream that speaks for another instance than its certificate's, and an agent holding another's certificate", async () => {
    const sim2 = world.agent('sim-2').tlsDir;
    const asSim2 = grpc.credentials.createSsl(caPem(), read(sim2, 'key.pem'), read(sim2, 'cert.pem'));
    expect(await streamOutcome(world.coordinator.agentAddress, asSim2, 'sim-1')).toMatchObject({ welcomed: false, code: grpc.status.PERMISSION_DENIED });
    expect(await streamOutcome(world.coordinator.agentAddress, asSim2, 'sim-2', 'sim-1')).toMatchObject({ welcomed: false, code: grpc.status.PERMISSION_DENIED });
    // (the same certificate speaking for its own instance is fine)
    expect(await streamOutcome(world.coordinator.agentAddress, asSim2, 'sim-2')).toMatchObject({ welcomed: true });

    // an agent configured as sim-9 (registered, never enrolled) with sim-2's files copied in refuses to start
    await world.cliOk(['deploy', 'register-on-premises-instance', '--instance-name', 'sim-9', '--iam-user-arn', 'arn:aws:iam::000000000000:user/sim-9']);
    const { tlsDir } = writeAgentConfig('sim-9', world.coordinator.agentAddress, dir);
    fs.mkdirSync(tlsDir, { recursive: true });
    for (const f of ['key.pem', 'cert.pem', 'ca.pem']) fs.copyFileSync(path.join(sim2, f), path.join(tlsDir, f));
    const impostor = await startAgent('sim-9', world.coordinator, dir, { enrol: false });
    await new Promise((r) => impostor.child.once('exit', r));
    expect(impostor.logs()).toMatch(/^ERROR: instance_name is sim-9, but the enrolled certificate .* is for sim-2/m);
  });

  it('refuses in the handshake a certificate from another CA', async () => {
    const other = await openAuthority(fs.mkdtempSync(path.join(dir, 'other-ca-')), {}, Date.now());
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=sim-1', keys, signingAlgorithm: alg });
    const cert = await other.issueClient('sim-1', await verifyCsr(csr.toString('pem')), Date.now(), 3_600_000);
    const key = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
    const keyPem = `-----BEGIN PRIVATE KEY-----\n${key.toString('base64')}\n-----END PRIVATE KEY-----\n`;
    const r = await streamOutcome(world.coordinator.agentAddress, grpc.credentials.createSsl(caPem(), Buffer.from(keyPem), Buffer.from(cert.pem)), 'sim-1');
    expect(r).toMatchObject({ welcomed: false, code: grpc.status.UNAVAILABLE });
  });

  it('refuses a used token and an expired one, and stores nothing for them', async () => {
    await world.cliOk(['deploy', 'register-on-premises-instance', '--instance-name', 'late-1', '--iam-user-arn', 'arn:aws:iam::000000000000:user/late-1']);
    const token = await mintToken(world.coordinator, 'late-1');
    const first = writeAgentConfig('late-1', world.coordinator.agentAddress, dir);
    expect((await enrol(first.configFile, world.coordinator.enrolAddress, token)).code).toBe(0);
    const second = writeAgentConfig('late-1b', world.coordinator.agentAddress, dir);
    const reused = await enrol(second.configFile, world.coordinator.enrolAddress, token);
    expect(reused.code).toBe(1);
    expect(reused.stderr).toMatch(/^ERROR: the coordinator refused the enrolment \(UNAUTHENTICATED\): the enrolment token was already used/m);
    expect(fs.existsSync(path.join(second.tlsDir, 'cert.pem'))).toBe(false);

    const short = await mintToken(world.coordinator, 'late-1', '1s');
    await new Promise((r) => setTimeout(r, 1_500));
    const expired = await enrol(second.configFile, world.coordinator.enrolAddress, short);
    expect(expired.code).toBe(1);
    expect(expired.stderr).toMatch(/the enrolment token expired at/);
    expect(fs.existsSync(path.join(second.tlsDir, 'cert.pem'))).toBe(false);
  });

  it("will not send a token to a server whose CA is not the token's", async () => {
    const token = await mintToken(world.coordinator, 'late-1');
    const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
    const cfg = writeAgentConfig('late-2', world.coordinator.agentAddress, dir);
    const r = await enrol(cfg.configFile, world.coordinator.enrolAddress, forged);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/presents no CA certificate with the token's fingerprint/);
  });

  it("disconnects a deregistered instance's agent, which cannot reconnect, and a deployment does not reach it", async () => {
    const sim3 = world.agent('sim-3');
    await world.cliOk(['deploy', 'deregister-on-premises-instance', '--instance-name', 'sim-3']);
    await eventually(() => expect(sim3.logs()).toContain('"msg":"connection to coordinator lost"'), 10_000);
    await eventually(() => expect(sim3.logs()).toMatch(/"code":"UNAUTHENTICATED".*revoked/), 15_000);
    // registered again under the same name, the old certificate still does not count
    await world.cliOk(['deploy', 'register-on-premises-instance', '--instance-name', 'sim-3', '--iam-user-arn', 'arn:aws:iam::000000000000:user/sim-3']);
    await world.cliOk(['deploy', 'add-tags-to-on-premises-instances', '--instance-names', 'sim-3', '--tags', 'Key=only,Value=sim-3']);
    await world.group('g-sim-3', 'CodeDeployDefault.AllAtOnce', ['--on-premises-instance-tag-filters', 'Key=only,Value=sim-3,Type=KEY_AND_VALUE']);
    const id = await world.deploy('g-sim-3', await world.upload(probeBundle(world.journal('dereg'), { destination: '/srv/dereg' })));
    await new Promise((r) => setTimeout(r, 4_000));
    const target = (await world.targets(id))['sim-3']!;
    expect(target.status).not.toBe('Succeeded');
    expect(target.lifecycleEvents!.find((e) => e.lifecycleEventName === 'DownloadBundle')!.status).toBe('Pending');
    expect(fs.existsSync(path.join(sim3.filesDir, 'srv/dereg'))).toBe(false);
    expect(connections(sim3)).toBe(1);
    await world.cliOk(['deploy', 'stop-deployment', '--deployment-id', id]);
  }, 60_000);
});

describeWithTools(['aws'], 'certificate renewal', () => {
  const world = new FleetWorld();
  beforeAll(async () => {
    const config = path.join(world.dir, 'coordinator.yml');
    fs.writeFileSync(config, 'certificate_validity_seconds: 12\nheartbeat_interval_seconds: 1\n');
    await world.start(1, ['--config', config]);
  }, 90_000);
  afterAll(() => world.stop());

  it('renews before the certificate expires and stays connected and deployable past the first expiry', async () => {
    const agent = world.agent('sim-1');
    await eventually(() => expect(connections(agent)).toBeGreaterThanOrEqual(1), 15_000);
    // On a busy machine the start-up may outlast a 12 s certificate, so count from here on.
    const renewals = (): number => agent.logs().split('\n').filter((l) => l.includes('"msg":"certificate renewed"')).length;
    const [connectedBefore, renewedBefore] = [connections(agent), renewals()];
    const firstCert = new x509.X509Certificate(read(agent.tlsDir, 'cert.pem').toString());
    await eventually(() => expect(renewals()).toBeGreaterThan(renewedBefore), 15_000);
    await eventually(() => expect(connections(agent)).toBeGreaterThan(connectedBefore), 10_000);
    const renewed = new x509.X509Certificate(read(agent.tlsDir, 'cert.pem').toString());
    expect(renewed.serialNumber).not.toBe(firstCert.serialNumber);
    expect(renewed.subject).toBe('CN=sim-1');
    // past the first certificate's end, the agent still takes deployments
    const wait = firstCert.notAfter.getTime() + 1_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await world.group('g-renew', 'CodeDeployDefault.AllAtOnce');
    const id = await world.deploy('g-renew', await world.upload(probeBundle(world.journal('renew'), { destination: '/srv/renew' })));
    const d = await world.finished(id, 60_000);
    expect(d.status, await world.failures(id)).toBe('Succeeded');
    expect(statusesOf(await world.targets(id))).toEqual({ 'sim-1': 'Succeeded' });
  }, 120_000);
});
