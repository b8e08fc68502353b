/**
 * Blue/green Server deployments behind a real HAProxy, end to end: a real coordinator driving
 * HAProxy's runtime API, four real agents (sim-1 … sim-4) each with a small web server that serves
 * the site its agent installed, and the stock AWS CLI as the client. sim-1 and sim-3 (role=web) serve
 * first; a deployment names the other pair (role=api) as the replacement, and the next one flips back.
 * A request loop runs through HAProxy during every switch and must never see an error. A CodeDeploy
 * minute lasts one second here (test_only_minute_ms).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FleetWorld, APP } from '../fleet/fleet-world.js';
import { describeWithTools } from '../harness/system-tools.js';
import { startHaproxy } from '../harness/haproxy.js';
import type { HaproxyProcess } from '../harness/haproxy.js';
import { getOnce, newTally, record, share } from '../harness/label-servers.js';
import type { Tally } from '../harness/label-servers.js';
import { eventually } from '../harness/eventually.js';
import { createHaproxyRuntimeApi } from '../../packages/coordinator/src/routers/haproxy/runtime-api.js';
import type { BundleFiles } from '../harness/bundles.js';
import { runCli, userEnvironment } from '../harness/cli.js';

const HOSTS = ['sim-1', 'sim-2', 'sim-3', 'sim-4'];
const WEB = ['sim-1', 'sim-3']; // role=web
const API = ['sim-2', 'sim-4']; // role=api
const BACKEND = 'site';
const SITE = '/srv/site';
const KEEP_ALIVE = { terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' }, deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' }, greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' } };

/** siteBundle installs index.html saying `version`; BeforeAllowTraffic fails on the hosts in `failAllowOn`. */
function siteBundle(version: string, failAllowOn: string[] = []): BundleFiles {
  const fail = failAllowOn.map((h) => `*/${h}/root/*) echo "not ready on ${h}" >&2; exit 4 ;;`).join('\n  ');
  return {
    'appspec.yml': ['version: 0.0', 'os: linux', 'files:', '  - source: site', `    destination: ${SITE}`, 'hooks:', '  BeforeAllowTraffic:', '    - location: check.sh', '      timeout: 30', ''].join('\n'),
    'site/index.html': version,
    'check.sh': `#!/bin/sh\ncase "$0" in\n  ${fail}\n  *) : ;;\nesac\n`,
  };
}

/**
 * replacement names the replacement by its role tag, as the CLI's --target-instances takes it. The
 * site the test put on the role=web pair at first was not installed by an agent, hence OVERWRITE.
 */
const replacement = (role: 'web' | 'api') => ['--target-instances', JSON.stringify({ tagFilters: [{ Key: 'role', Value: role, Type: 'KEY_AND_VALUE' }] }), '--file-exists-behavior', 'OVERWRITE'];

/** RequestLoop sends requests through HAProxy one after another until stopped, timing each answer. */
class RequestLoop {
  readonly tally: Tally = newTally();
  readonly seen: Array<{ at: number; body: string }> = [];
  private running = true;
  private done: Promise<void>;
  constructor(url: string) {
    this.done = (async () => {
      while (this.running) {
        const answer = await getOnce(url);
        record(this.tally, answer);
        if (!('error' in answer) && answer.status === 200) this.seen.push({ at: Date.now(), body: answer.body });
      }
    })();
  }
  async stop(): Promise<Tally> {
    this.running = false;
    await this.done;
    return this.tally;
  }
}

describeWithTools(['aws', 'haproxy'], 'blue/green Server deployments behind a real HAProxy', () => {
  const world = new FleetWorld();
  let haproxy: HaproxyProcess;
  const sites: http.Server[] = [];
  const retiredLog = path.join(world.dir, 'retired.log');
  const config = path.join(world.dir, 'coordinator.yml');

  /** admin reads the backend through HAProxy's runtime API, by server name. */
  async function backend(): Promise<Record<string, { weight: number; drain: boolean; maint: boolean }>> {
    const servers = await createHaproxyRuntimeApi(haproxy.socketPath).showServers(BACKEND);
    return Object.fromEntries(servers.map((s) => [s.server, { weight: s.userWeight, drain: s.drain, maint: s.maint }]));
  }

  /** sample sends `n` requests through HAProxy and gives the share answered by `version`. */
  async function sample(n: number, version: string): Promise<{ share: number; tally: Tally }> {
    const tally = newTally();
    for (let i = 0; i < n; i++) record(tally, await getOnce(haproxy.frontendUrl));
    return { share: share(tally, version), tally };
  }

  beforeAll(async () => {
    // Each host serves what its agent installed under its destination root, or 404 before that.
    const ports: number[] = [];
    for (const host of HOSTS) {
      const server = http.createServer((_req, res) => {
        const file = path.join(world.dir, host, 'files', SITE, 'index.html');
        fs.readFile(file, 'utf8', (err, body) => {
          res.writeHead(err ? 404 : 200, { 'content-type': 'text/plain' }).end(err ? `${host}: nothing installed\n` : body);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      sites.push(server);
      ports.push((server.address() as AddressInfo).port);
    }
    haproxy = await startHaproxy({ backend: BACKEND, servers: HOSTS.map((name, i) => ({ name, port: ports[i]! })) });
    // The operator's starting point: the role=web pair serves v1; the role=api pair waits disabled.
    for (const host of WEB) {
      fs.mkdirSync(path.join(world.dir, host, 'files', SITE), { recursive: true });
      fs.writeFileSync(path.join(world.dir, host, 'files', SITE, 'index.html'), 'v1');
    }
    const api = createHaproxyRuntimeApi(haproxy.socketPath);
    for (const host of API) await api.setState(BACKEND, host, 'maint');
    fs.writeFileSync(config, [`haproxy_socket: ${haproxy.socketPath}`, 'test_only_minute_ms: 1000', `blue_green_terminate_command: echo "$FLEETDEPLOY_INSTANCE_NAME $FLEETDEPLOY_DEPLOYMENT_ID" >> ${retiredLog}`, ''].join('\n'));
    await world.start(4, ['--config', config]);
    await world.cliOk(['deploy', 'create-deployment-config', '--deployment-config-name', 'Linear25Every1', '--minimum-healthy-hosts', 'type=HOST_COUNT,value=0', '--traffic-routing-config', 'type=TimeBasedLinear,timeBasedLinear={linearPercentage=25,linearInterval=1}']);
  }, 120_000);

  afterAll(async () => {
    await world.stop();
    await haproxy?.stop();
    for (const s of sites) s.close();
  });

  /** fleetdeploy runs the operator CLI as a user of this coordinator would. */
  function fleetdeploy(args: string[]): ReturnType<typeof runCli> {
    const home = path.join(world.dir, 'operator');
    fs.mkdirSync(home, { recursive: true });
    return runCli(args, userEnvironment(world.coordinator, home), home, 90_000);
  }
  const trafficLines = (stdout: string): string[] => stdout.split('\n').filter((l) => l.startsWith('traffic ')).map((l) => l.replace(/^traffic +[█░]+ {2}/, ''));

  /** group makes a blue/green group over all four hosts, behind the `site` backend. */
  async function group(name: string, config: string, blueGreen: object): Promise<void> {
    await world.group(name, config, [
      '--on-premises-instance-tag-filters', 'Key=env,Value=sim,Type=KEY_AND_VALUE',
      '--deployment-style', 'deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL',
      '--load-balancer-info', JSON.stringify({ targetGroupInfoList: [{ name: BACKEND }] }),
      '--blue-green-deployment-configuration', JSON.stringify(blueGreen),
    ]);
  }

  it('a linear blue/green deployment moves the traffic step by step with no failed request, and keeps the original drained (KEEP_ALIVE)', async () => {
    // given a linear 25 %-a-minute group, with v1 on the role=web pair
    await group('bg-linear', 'Linear25Every1', KEEP_ALIVE);
    const before = await sample(20, 'v1');
    expect(before.tally.failures).toEqual([]);
    expect(before.share).toBe(100);
    // when v2 is deployed to the role=api pair while requests flow
    const loop = new RequestLoop(haproxy.frontendUrl);
    const id = await world.deploy('bg-linear', await world.upload(siteBundle('v2')), replacement('api'));
    const watching = fleetdeploy(['status', id, '--watch']); // may connect after the install, even after the first step
    const done = await world.finished(id, 90_000);
    const tally = await loop.stop();
    // then it succeeds, no request failed, and the answers moved from v1 to v2 and stayed there
    expect(done.status, await world.failures(id)).toBe('Succeeded');
    expect(done.deploymentStyle).toEqual({ deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' });
    expect(tally.failures).toEqual([]);
    expect(tally.byLabel.get('v1')).toBeGreaterThan(0);
    expect(tally.byLabel.get('v2')).toBeGreaterThan(0);
    const firstV2 = loop.seen.findIndex((s) => s.body === 'v2');
    const lastV1 = loop.seen.map((s) => s.body).lastIndexOf('v1');
    // a mixed phase lasting the three one-second intervals between 25 % and 100 %, not a flip
    expect(loop.seen[lastV1]!.at - loop.seen[firstV2]!.at).toBeGreaterThan(2_000);
    expect((await sample(40, 'v2')).share).toBe(100);
    // the original servers are drained, not removed; the replacement carries the traffic
    const servers = await backend();
    for (const host of WEB) expect(servers[host]).toMatchObject({ weight: 0, drain: true, maint: false });
    for (const host of API) expect(servers[host]!.weight).toBeGreaterThan(0);
    // each instance ran its side of the switch, labelled as CodeDeploy labels it
    const targets = await world.targets(id);
    for (const host of API) {
      expect(targets[host]).toMatchObject({ status: 'Succeeded', instanceLabel: 'Green' });
      expect(targets[host]!.lifecycleEvents!.map((e) => `${e.lifecycleEventName}:${e.status}`)).toEqual([
        'ApplicationStop:Succeeded', 'DownloadBundle:Succeeded', 'BeforeInstall:Succeeded', 'Install:Succeeded', 'AfterInstall:Succeeded', 'ApplicationStart:Succeeded', 'ValidateService:Succeeded',
        'BeforeAllowTraffic:Succeeded', 'AllowTraffic:Succeeded', 'AfterAllowTraffic:Succeeded',
      ]);
    }
    for (const host of WEB) {
      expect(targets[host]).toMatchObject({ status: 'Succeeded', instanceLabel: 'Blue' });
      expect(targets[host]!.lifecycleEvents!.map((e) => e.lifecycleEventName)).toEqual(['BeforeBlockTraffic', 'BlockTraffic', 'AfterBlockTraffic']);
    }
    const green = await world.cliOk(['deploy', 'list-deployment-targets', '--deployment-id', id, '--target-filters', 'ServerInstanceLabel=Green']);
    expect((green.json.targetIds as string[]).sort()).toEqual(API);
    // the operator's watch named each side and printed every weight step, in order
    const watch = await watching;
    expect(watch.code, watch.stdout + watch.stderr).toBe(0);
    expect(watch.stdout).toContain('replacement (green): sim-2, sim-4\noriginal (blue): sim-1, sim-3\n');
    // from the first step it saw on, every step: none missed
    const steps = ['75 % on blue, 25 % on green', '50 % on blue, 50 % on green', '25 % on blue, 75 % on green', '100 % on green'];
    const seen = trafficLines(watch.stdout);
    expect(seen.length, watch.stdout).toBeGreaterThanOrEqual(2);
    expect(seen, watch.stdout).toEqual(steps.slice(steps.indexOf(seen[0]!)));
    expect(watch.stdout.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^Deployment ${id} Succeeded: 4 succeeded, 0 failed, 0 skipped in \\d+\\.\\d s$`));
    // and status shows the sides with their steps: ten on the replacement, three on the original
    const status = await fleetdeploy(['status', id]);
    expect(status.stdout).toContain(['  replacement (green):', '    sim-2    Succeeded  10/10 AfterAllowTraffic', '    sim-4    Succeeded  10/10 AfterAllowTraffic', '  original (blue):', '    sim-1    Succeeded  3/3 AfterBlockTraffic', '    sim-3    Succeeded  3/3 AfterBlockTraffic'].join('\n'));
  }, 120_000);

  it('naming the instances that serve as the replacement is refused before anything changes: the backend keeps serving', async () => {
    // given v2 served by the role=api pair (the test before); a deployment that names that pair again
    await group('bg-wrong', 'CodeDeployDefault.AllAtOnce', KEEP_ALIVE);
    const loop = new RequestLoop(haproxy.frontendUrl);
    const id = await world.deploy('bg-wrong', await world.upload(siteBundle('v2-again')), replacement('api'));
    const done = await world.finished(id, 30_000);
    const tally = await loop.stop();
    expect(done.status).toBe('Failed');
    expect(done.errorInformation?.code).toBe('ELASTIC_LOAD_BALANCING_INVALID');
    expect(done.errorInformation?.message).toContain('the replacement instances (sim-2, sim-4) carry HAProxy backend site\'s traffic now and the original ones (sim-1, sim-3) carry none');
    expect(tally.failures).toEqual([]);
    expect([...tally.byLabel.keys()]).toEqual(['v2']);
    for (const host of API) expect((await backend())[host]!.weight).toBeGreaterThan(0);
    expect((await world.targets(id))['sim-2']!.lifecycleEvents!.every((e) => e.status === 'Skipped')).toBe(true);
  }, 60_000);

  it('a failing BeforeAllowTraffic fails the deployment and leaves all traffic on the original', async () => {
    // given v2 on the role=api pair (the first test), and a group flipping back to the role=web pair
    await group('bg-fail', 'CodeDeployDefault.AllAtOnce', KEEP_ALIVE);
    const loop = new RequestLoop(haproxy.frontendUrl);
    // when v3's BeforeAllowTraffic fails on sim-3
    const id = await world.deploy('bg-fail', await world.upload(siteBundle('v3', ['sim-3'])), replacement('web'));
    const done = await world.finished(id, 60_000);
    const tally = await loop.stop();
    // then the deployment fails with the host named, and no request ever reached v3 or failed
    expect(done.status).toBe('Failed');
    expect(done.errorInformation?.code).toBe('HEALTH_CONSTRAINTS');
    expect(done.errorInformation?.message).toContain('BeforeAllowTraffic failed on 1 of 2 instance(s): sim-3 (ScriptFailed)');
    expect(tally.failures).toEqual([]);
    expect([...tally.byLabel.keys()]).toEqual(['v2']);
    const servers = await backend();
    for (const host of WEB) expect(servers[host]!.weight).toBe(0);
    for (const host of API) expect(servers[host]).toMatchObject({ drain: false, maint: false });
    expect((await world.targets(id))['sim-3']).toMatchObject({ status: 'Failed' });
  }, 90_000);

  it('StopDeployment in the middle of a linear shift puts all traffic back on the original', async () => {
    await group('bg-stop', 'Linear25Every1', KEEP_ALIVE);
    const id = await world.deploy('bg-stop', await world.upload(siteBundle('v4')), replacement('web'));
    // when the shift has begun (v4 answers some requests)
    await eventually(async () => {
      const { share: s } = await sample(12, 'v4');
      if (s === 0) throw new Error('v4 gets no traffic yet');
    }, 60_000, 100);
    const loop = new RequestLoop(haproxy.frontendUrl);
    await world.cliOk(['deploy', 'stop-deployment', '--deployment-id', id]);
    const done = await world.finished(id, 30_000);
    const tally = await loop.stop();
    // then it is Stopped, traffic is back on v2 and nothing failed on the way
    expect(done.status).toBe('Stopped');
    expect(done.errorInformation?.code).toBe('MANUAL_STOP');
    expect(tally.failures).toEqual([]);
    expect((await sample(40, 'v2')).share).toBe(100);
  }, 90_000);

  it('a coordinator killed in the middle of a linear shift resumes it from the recorded step: the green share never goes back or jumps to 100 %', async () => {
    await group('bg-kill', 'Linear25Every1', KEEP_ALIVE);
    const id = await world.deploy('bg-kill', await world.upload(siteBundle('v6')), replacement('web'));
    // the green share as HAProxy's weights say, sampled throughout
    const shares: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const servers = await backend().catch(() => undefined);
        if (servers !== undefined) {
          const sum = (hosts: string[]) => hosts.reduce((n, h) => n + servers[h]!.weight, 0);
          const total = sum(WEB) + sum(API);
          if (total > 0) shares.push(Math.round((100 * sum(WEB)) / total));
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await eventually(async () => {
      if (!shares.includes(25)) throw new Error('the first step (25 %) is not applied yet');
    }, 60_000, 50);
    await world.coordinator.stop('SIGKILL');
    const killedAt = shares.length;
    await new Promise((r) => setTimeout(r, 1_500)); // longer than a step: the restart must not catch up by skipping
    await world.restartCoordinator({ args: ['--config', config] });
    const done = await world.finished(id, 60_000);
    sampling = false;
    await sampler;
    expect(done.status, await world.failures(id)).toBe('Succeeded');
    // never back: each reading is at least the one before (a step is several `set weight` commands, raises
    // first, so a reading taken in the middle of one lies between the two steps)
    expect(shares.every((v, i) => i === 0 || v >= shares[i - 1]!), shares.join(' ')).toBe(true);
    for (const step of [25, 50, 75, 100]) expect(shares).toContain(step);
    // after the restart the shift went on from 25 %, one step at a time (not straight to 100 %)
    const after = shares.slice(killedAt);
    expect(after[0]).toBe(25);
    expect(after.indexOf(50)).toBeGreaterThan(-1);
    expect(after.indexOf(50)).toBeLessThan(after.indexOf(75));
    expect(after.indexOf(75)).toBeLessThan(after.indexOf(100));
    expect((await sample(40, 'v6')).share).toBe(100);
  }, 120_000);

  it('STOP_DEPLOYMENT waits in Ready for ContinueDeployment; TERMINATE then retires the original instances', async () => {
    // given a group that waits in Ready and terminates the original after a 1-minute (1 s) wait
    await group('bg-terminate', 'CodeDeployDefault.AllAtOnce', {
      terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 1 },
      deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 },
      greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' },
    });
    const id = await world.deploy('bg-terminate', await world.upload(siteBundle('v5')), replacement('api'));
    // when the replacement is installed, the deployment waits in Ready with no traffic moved
    await eventually(async () => {
      const d = await world.deployment(id);
      if (d.status !== 'Ready') throw new Error(`deployment is ${d.status}`);
    }, 60_000, 100);
    expect((await sample(20, 'v6')).share).toBe(100);
    const early = await world.cli(['deploy', 'continue-deployment', '--deployment-id', id, '--deployment-wait-type', 'TERMINATION_WAIT']);
    expect(early.stderr).toContain('DeploymentIsNotInReadyStateException');
    // the operator sees it waiting, the replacement installed (7 of its 10 steps), and the command that goes on
    const status = await fleetdeploy(['status', id]);
    expect(status.stdout).toContain(`  waiting in Ready: the replacement is installed and has no traffic yet; reroute it now with: fleetdeploy continue ${id} (or aws deploy continue-deployment --deployment-id ${id} --deployment-wait-type READY_WAIT)\n`);
    expect(status.stdout).toContain(['  replacement (green):', '    sim-2    Ready      7/10 ValidateService; installed, waits for traffic', '    sim-4    Ready      7/10 ValidateService; installed, waits for traffic', '  original (blue):', '    sim-1    Pending    0/3', '    sim-3    Pending    0/3'].join('\n'));
    const watching = fleetdeploy(['status', id, '--watch']);
    const notWaiting = await fleetdeploy(['continue', id, '--termination-wait']);
    expect(notWaiting.code).toBe(1);
    expect(notWaiting.stderr).toMatch(/^ERROR: ContinueDeployment d-\w+ TERMINATION_WAIT: DeploymentIsNotInReadyStateException: /);
    // and after `fleetdeploy continue`
    const loop = new RequestLoop(haproxy.frontendUrl);
    const continued = await fleetdeploy(['continue', id]);
    expect(continued.stdout).toBe(`Continued ${id}: the traffic moves to the replacement now; fleetdeploy status ${id} --watch follows it\n`);
    const done = await world.finished(id, 60_000);
    const watch = await watching;
    expect(watch.code, watch.stdout + watch.stderr).toBe(0);
    expect(watch.stdout.split('\n')[0]).toBe(`deployment ${id} Ready: the replacement is installed and has no traffic yet; reroute it now with: fleetdeploy continue ${id} (or aws deploy continue-deployment --deployment-id ${id} --deployment-wait-type READY_WAIT)`);
    expect(watch.stdout).toContain(`deployment ${id} InProgress\n`);
    expect(trafficLines(watch.stdout)).toEqual(['100 % on green']);
    const tally = await loop.stop();
    // then traffic moved with no failure, and the original instances are out of HAProxy and the fleet
    expect(done.status, await world.failures(id)).toBe('Succeeded');
    expect(tally.failures).toEqual([]);
    expect((await sample(40, 'v5')).share).toBe(100);
    const servers = await backend();
    for (const host of WEB) expect(servers[host]).toMatchObject({ maint: true });
    for (const host of WEB) {
      const info = await world.cliOk(['deploy', 'get-on-premises-instance', '--instance-name', host]);
      expect(info.json.instanceInfo).toHaveProperty('deregisterTime');
    }
    expect(fs.readFileSync(retiredLog, 'utf8').trim().split('\n').sort()).toEqual(WEB.map((h) => `${h} ${id}`));
    const again = await world.cli(['deploy', 'continue-deployment', '--deployment-id', id]);
    expect(again.stderr).toContain('DeploymentAlreadyCompletedException');
  }, 120_000);

  it('refuses what cannot work, with the exception CodeDeploy uses', async () => {
    await group('bg-errors', 'CodeDeployDefault.AllAtOnce', KEEP_ALIVE);
    const key = await world.upload(siteBundle('v9'));
    const deploy = (extra: string[]) => world.cli(['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', 'bg-errors', '--s3-location', `bucket=revisions,key=${key},bundleType=zip`, ...extra]);
    const missing = await deploy([]);
    expect(missing.stderr).toContain('InvalidTargetInstancesException');
    expect(missing.stderr).toContain('targetInstances is required for a blue/green deployment');
    const none = await deploy(['--target-instances', JSON.stringify({ tagFilters: [{ Key: 'role', Value: 'db', Type: 'KEY_AND_VALUE' }] })]);
    expect(none.stderr).toContain('targetInstances.tagFilters match no registered instance');
    const noLb = await world.cli(['deploy', 'create-deployment-group', '--application-name', APP, '--deployment-group-name', 'bg-nolb', '--service-role-arn', 'arn:aws:iam::000000000000:role/fleetdeploy', '--deployment-style', 'deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL']);
    expect(noLb.stderr).toContain('InvalidLoadBalancerInfoException');
    const routed = await world.cli(['deploy', 'create-deployment-group', '--application-name', APP, '--deployment-group-name', 'inplace-linear', '--service-role-arn', 'arn:aws:iam::000000000000:role/fleetdeploy', '--deployment-config-name', 'Linear25Every1']);
    expect(routed.stderr).toContain('InvalidTrafficRoutingConfigurationException');
    const inPlace = await world.cli(['deploy', 'create-deployment-group', '--application-name', APP, '--deployment-group-name', 'inplace', '--service-role-arn', 'arn:aws:iam::000000000000:role/fleetdeploy']);
    expect(inPlace.code).toBe(0);
    const continued = await world.cli(['deploy', 'create-deployment', '--application-name', APP, '--deployment-group-name', 'inplace', '--s3-location', `bucket=revisions,key=${key},bundleType=zip`, ...replacement('web')]);
    expect(continued.stderr).toContain('InvalidTargetInstancesException');
  }, 60_000);
});
