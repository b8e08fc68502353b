/**
 * The web console with a blue/green Server deployment behind a real HAProxy, in a real headless
 * browser (issue 12 item 2): the deployment waits in Ready, the Continue button shifts the traffic,
 * and the chart draws the replacement's weights step by step as they come over the stream.
 *
 * FLEETDEPLOY_CONSOLE_SCREENSHOTS=<dir> also saves traffic.png there.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP, FleetWorld } from './fleet/fleet-world.js';
import { startHaproxy } from './harness/haproxy.js';
import type { HaproxyProcess } from './harness/haproxy.js';
import { describeWithTools, SYSTEM_TOOLS } from './harness/system-tools.js';

const HOSTS = ['sim-1', 'sim-2', 'sim-3', 'sim-4'];
const shots = process.env.FLEETDEPLOY_CONSOLE_SCREENSHOTS;

describeWithTools(['chromium', 'haproxy', 'aws'], 'the web console and a blue/green deployment', () => {
  const world = new FleetWorld();
  let haproxy: HaproxyProcess;
  let site: http.Server;
  let browser: Browser;

  beforeAll(async () => {
    site = http.createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    const port = (site.address() as AddressInfo).port;
    haproxy = await startHaproxy({ backend: 'site', servers: HOSTS.map((name) => ({ name, port })) });
    const config = path.join(world.dir, 'coordinator.yml');
    // One of CodeDeploy's minutes is 1 s here, so a linear shift of four steps takes about four seconds.
    fs.writeFileSync(config, [`haproxy_socket: ${haproxy.socketPath}`, 'test_only_minute_ms: 1000', ''].join('\n'));
    await world.start(HOSTS.length, ['--config', config]);
    await world.cliOk(['deploy', 'create-deployment-config', '--deployment-config-name', 'Linear25Every1', '--minimum-healthy-hosts', 'type=HOST_COUNT,value=0', '--traffic-routing-config', 'type=TimeBasedLinear,timeBasedLinear={linearPercentage=25,linearInterval=1}']);
    await world.group('bg', 'Linear25Every1', [
      '--on-premises-instance-tag-filters', 'Key=env,Value=sim,Type=KEY_AND_VALUE',
      '--deployment-style', 'deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL',
      '--load-balancer-info', JSON.stringify({ targetGroupInfoList: [{ name: 'site' }] }),
      '--blue-green-deployment-configuration', JSON.stringify({ terminateBlueInstancesOnDeploymentSuccess: { action: 'KEEP_ALIVE' }, deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 60 }, greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' } }),
    ]);
    browser = await chromium.launch({ executablePath: SYSTEM_TOOLS.chromium.command, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await world.stop();
    await haproxy?.stop();
    site?.close();
  });

  it('waits in Ready until Continue is pressed, then charts the weights as they shift', async () => {
    const key = await world.upload({ 'appspec.yml': 'version: 0.0\nos: linux\nfiles:\n  - source: index.html\n    destination: /srv/site\n', 'index.html': 'v2' });
    const id = await world.deploy('bg', key, ['--target-instances', JSON.stringify({ tagFilters: [{ Key: 'role', Value: 'api', Type: 'KEY_AND_VALUE' }] })]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ignoreHTTPSErrors: true }); // the coordinator's CA is its own (the browser is not given it)
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${world.coordinator.apiUrl}/_console/`);
    await page.fill('input[name=accessKeyId]', world.coordinator.credentials.accessKeyId);
    await page.fill('input[name=secretAccessKey]', world.coordinator.credentials.secretAccessKey);
    await page.click('button[type=submit]');
    await page.click(`section[aria-label=Applications] button:text-is("${APP}")`);
    await page.click('section[aria-label="Deployment groups"] button:text-is("bg")');
    await page.click(`[data-deployment=${id}]`);

    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 60_000 }).toBe('Ready');
    expect(await page.locator('figure.traffic').count()).toBe(0); // nothing has moved yet
    await page.click('.actions button:text-is("Continue (shift traffic)")');
    expect(await page.textContent('[role=status]')).toBe('Continued: the traffic moves to the replacement now');
    await expect.poll(() => page.textContent('[data-testid=traffic-weight]'), { timeout: 30_000 }).toBe('25 %');
    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 60_000 }).toBe('Succeeded');
    expect(await page.textContent('[data-testid=traffic-weight]')).toBe('100 %');
    // a staircase of the four steps: 25, 50, 75, 100 (two points a step after the first, and one for now)
    const points = (await page.getAttribute('figure.traffic polyline', 'points'))!.split(' ');
    expect(points.length).toBe(2 * 4);
    expect(points.at(-1)!.split(',')[1]).toBe('0'); // 100 % is the top of the chart
    expect((await world.deployment(id)).status).toBe('Succeeded');
    if (shots !== undefined) await page.locator('section.deployment').screenshot({ path: path.join(shots, 'traffic.png') });
    await context.close();
  }, 120_000);
});
