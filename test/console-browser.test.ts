/**
 * The web console in a real headless browser (Debian's chromium driven by playwright-core) against a
 * running `fleetdeploy simulate` (issue 12 item 2): sign in, a deployment made elsewhere appears and
 * turns green without a reload, a failing script's log tail is shown, Stop stops, a read-only key
 * sees no buttons and is refused when it asks anyway, and 1,000 hosts render as one canvas. Load and
 * render times are printed (never asserted: the machine is shared).
 *
 * A guided-failure deployment waits at its failed host, and Retry in the page (after the test fixes
 * what the script needed) lets it finish, shown live.
 *
 * FLEETDEPLOY_CONSOLE_SCREENSHOTS=<dir> also saves console.png, deployment.png, guided.png and fleet-1000.png
 * there (docs/ holds the committed ones).
 */
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import AdmZip from 'adm-zip';
import {
  CodeDeployClient,
  CreateApplicationCommand,
  CreateDeploymentCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentCommand,
  RegisterOnPremisesInstanceCommand,
} from '@aws-sdk/client-codedeploy';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess, Credentials } from './harness/coordinator.js';
import { CLI_BIN, runCli } from './harness/cli.js';
import { eventually } from './harness/eventually.js';
import { trustingCa } from './harness/aws-cli.js';
import { describeWithTools, SYSTEM_TOOLS } from './harness/system-tools.js';

const run = promisify(execFile);
const SLOW = 120_000;
const AGENTS = 4;
const shots = process.env.FLEETDEPLOY_CONSOLE_SCREENSHOTS;

/** bundle is a zip whose AfterInstall hook runs `script` (a shell snippet). */
function bundle(script: string): Buffer {
  const zip = new AdmZip();
  zip.addFile('appspec.yml', Buffer.from(['version: 0.0', 'os: linux', 'files:', '  - source: site', '    destination: /srv/shop', 'hooks:', '  AfterInstall:', '    - location: hooks/after.sh', '      timeout: 60', ''].join('\n')));
  zip.addFile('site/index.html', Buffer.from('<h1>shop</h1>\n'));
  zip.addFile('hooks/after.sh', Buffer.from(`#!/bin/sh\n${script}\n`), '', 0o755);
  return zip.toBuffer();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describeWithTools(['chromium'], 'the web console in a real browser', () => {
  let work: string;
  let sim: ChildProcess;
  let simOut = '';
  let endpoint: string;
  let admin: Credentials;
  let readOnly: Credentials;
  let codedeploy: CodeDeployClient;
  let browser: Browser;
  let big: CoordinatorProcess | undefined;
  let marker: string;
  /** The simulation coordinator's CA certificate, for our CLI run directly. */
  let caBundle: string;

  const deploy = async (key: string): Promise<string> => {
    const r = await codedeploy.send(new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'web', revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key, bundleType: 'zip' } } }));
    return r.deploymentId!;
  };
  const statusOf = async (id: string): Promise<string> => (await codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!.status!;

  /** signIn opens the console in a fresh browser context and signs in with `key`. */
  const signIn = async (key: Credentials, base = endpoint): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ignoreHTTPSErrors: true }); // the coordinator's CA is its own (the browser is not given it)
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${base}/_console/`);
    await page.fill('input[name=accessKeyId]', key.accessKeyId);
    await page.fill('input[name=secretAccessKey]', key.secretAccessKey);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=role]');
    await page.waitForFunction(() => document.body.dataset.fleetLoaded !== undefined);
    return { context, page };
  };

  /** choose opens application shop, group web (or `group`) and, if given, one deployment. */
  const choose = async (page: Page, deploymentId?: string, group = 'web'): Promise<void> => {
    await page.click('section[aria-label=Applications] button:text-is("shop")');
    await page.click(`section[aria-label="Deployment groups"] button:text-is("${group}")`);
    if (deploymentId !== undefined) await page.click(`[data-deployment=${deploymentId}]`);
  };

  /** loadTimes reloads the signed-in page and reads when the page, and then the fleet, were ready (ms after navigation). */
  const loadTimes = async (page: Page, tiles: number): Promise<{ domContentLoaded: number; fleet: number; draw: number }> => {
    await page.reload();
    await page.waitForFunction((n) => document.querySelector('canvas')?.dataset.tiles === String(n), tiles);
    return page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      return {
        domContentLoaded: nav.domContentLoadedEventEnd,
        fleet: performance.getEntriesByName('fleet-loaded')[0]!.startTime,
        draw: Number(document.querySelector('canvas')!.dataset.drawMs),
      };
    });
  };

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-console-'));
    sim = spawn(process.execPath, [CLI_BIN, 'simulate', '--agents', String(AGENTS), '--port', '0', '--data-dir', path.join(work, 'sim')], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    sim.stdout!.setEncoding('utf8').on('data', (c: string) => (simOut += c));
    sim.stderr!.setEncoding('utf8').on('data', (c: string) => (simOut += c));
    await eventually(() => {
      if (sim.exitCode !== null) throw new Error(`simulate exited ${sim.exitCode}:\n${simOut}`);
      expect(simOut).toMatch(new RegExp(`^all ${AGENTS} agents connected`, 'm'));
    }, 90_000, 100);
    endpoint = /^API endpoint \(CodeDeploy and S3\): (\S+)$/m.exec(simOut)![1]!;
    expect(simOut).toContain(`web console:                      ${endpoint}/_console/`);
    admin = { accessKeyId: /export AWS_ACCESS_KEY_ID=(\S+)/.exec(simOut)![1]!, secretAccessKey: /export AWS_SECRET_ACCESS_KEY=(\S+)/.exec(simOut)![1]! };
    const { stdout } = await run(process.execPath, [COORDINATOR_BIN, 'keys', 'create', '--role', 'read-only', '--data-dir', path.join(work, 'sim', 'coordinator')]);
    readOnly = { accessKeyId: /aws_access_key_id = (\S+)/.exec(stdout)![1]!, secretAccessKey: /aws_secret_access_key = (\S+)/.exec(stdout)![1]! };

    caBundle = /export AWS_CA_BUNDLE=(\S+)/.exec(simOut)![1]!;
    const trust = trustingCa(caBundle); // simulate's coordinator has its own CA
    codedeploy = new CodeDeployClient({ endpoint, region: 'us-east-1', credentials: admin, maxAttempts: 1, ...trust });
    const s3 = new S3Client({ endpoint, region: 'us-east-1', credentials: admin, forcePathStyle: true, maxAttempts: 1, ...trust });
    await s3.send(new CreateBucketCommand({ Bucket: 'revisions' }));
    await s3.send(new PutObjectCommand({ Bucket: 'revisions', Key: 'ok.zip', Body: bundle('sleep 1') }));
    await s3.send(new PutObjectCommand({ Bucket: 'revisions', Key: 'failing.zip', Body: bundle('echo "checking the shop on $(hostname)"\necho "health check failed: HTTP 503" >&2\nexit 3') }));
    await s3.send(new PutObjectCommand({ Bucket: 'revisions', Key: 'slow.zip', Body: bundle('sleep 6') }));
    // fails until the test creates the marker file (every simulated host runs on this machine)
    marker = path.join(work, 'shop-config-ready');
    await s3.send(new PutObjectCommand({ Bucket: 'revisions', Key: 'needs-config.zip', Body: bundle(`echo "looking for ${marker}"\nif [ ! -f ${marker} ]; then echo "shop config missing: ${marker}" >&2; exit 4; fi`) }));
    s3.destroy();
    await codedeploy.send(new CreateApplicationCommand({ applicationName: 'shop' }));
    await codedeploy.send(new CreateDeploymentGroupCommand({
      applicationName: 'shop',
      deploymentGroupName: 'web',
      serviceRoleArn: 'arn:aws:iam::000000000000:role/fleetdeploy',
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'sim', Type: 'KEY_AND_VALUE' }],
    }));
    browser = await chromium.launch({ executablePath: SYSTEM_TOOLS.chromium.command, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  }, SLOW);

  afterAll(async () => {
    await browser?.close();
    codedeploy?.destroy();
    await big?.stop();
    if (sim !== undefined && sim.exitCode === null) {
      sim.kill('SIGINT');
      await new Promise((r) => sim.once('exit', r));
    }
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  }, SLOW);

  it('signs in, then a deployment made elsewhere appears and turns green live, without a reload', async () => {
    const { context, page } = await signIn(admin);
    expect(await page.textContent('[data-testid=role]')).toBe('admin');
    await expect.poll(() => page.textContent('[data-testid=live]')).toBe('live');
    expect(await page.textContent('[data-testid=count-idle]')).toBe(String(AGENTS));
    await choose(page);
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));

    const id = await deploy('ok.zip');
    const row = page.locator(`[data-deployment=${id}]`);
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    // OneAtATime: the fleet picture shows hosts in progress and succeeded as they go
    await page.waitForSelector('[data-testid=count-inProgress]', { timeout: 20_000 });
    await expect.poll(() => row.locator('.status').textContent(), { timeout: 60_000 }).toBe('Succeeded');
    await expect.poll(() => page.textContent('[data-testid=count-succeeded]'), { timeout: 10_000 }).toBe(String(AGENTS));
    expect(await page.textContent('[data-testid=deployment-status]')).toBe('Succeeded');
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    if (shots !== undefined) await page.screenshot({ path: path.join(shots, 'console.png'), fullPage: true });
    await context.close();
  }, SLOW);

  it("shows a failed instance's lifecycle events with the failing script's log tail", async () => {
    const { context, page } = await signIn(admin);
    await choose(page);
    const id = await deploy('failing.zip');
    await page.click(`[data-deployment=${id}]`, { timeout: 15_000 });
    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 60_000 }).toBe('Failed');
    await page.click('[aria-label=instances] .row:has(.s-Failed)');
    const tail = page.locator('[data-testid=log-tail]');
    await tail.waitFor({ timeout: 15_000 });
    expect(await tail.textContent()).toContain('health check failed: HTTP 503');
    expect(await page.textContent('.diagnostics')).toMatch(/AfterInstall failed in hooks\/after\.sh/);
    if (shots !== undefined) await page.screenshot({ path: path.join(shots, 'deployment.png'), fullPage: true });
    await context.close();
  }, SLOW);

  it('holds a guided-failure deployment at its failed host; Retry in the page after the fix lets it succeed, live', async () => {
    await codedeploy.send(new CreateDeploymentGroupCommand({
      applicationName: 'shop',
      deploymentGroupName: 'guided',
      serviceRoleArn: 'arn:aws:iam::000000000000:role/fleetdeploy',
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      onPremisesInstanceTagFilters: [{ Key: 'env', Value: 'sim', Type: 'KEY_AND_VALUE' }],
    }));
    fs.writeFileSync(path.join(work, 'aws-config'), '');
    const env = { PATH: process.env.PATH, HOME: work, AWS_CONFIG_FILE: path.join(work, 'aws-config'), AWS_ACCESS_KEY_ID: admin.accessKeyId, AWS_SECRET_ACCESS_KEY: admin.secretAccessKey, AWS_REGION: 'us-east-1', AWS_CA_BUNDLE: caBundle, FLEETDEPLOY_ENDPOINT: endpoint };
    const set = await runCli(['group', 'on-failure', '-a', 'shop', 'guided', 'guided'], env, work);
    expect(set.code, set.stderr).toBe(0);

    const { context, page } = await signIn(admin);
    await choose(page, undefined, 'guided');
    await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
    const r = await codedeploy.send(new CreateDeploymentCommand({ applicationName: 'shop', deploymentGroupName: 'guided', revision: { revisionType: 'S3', s3Location: { bucket: 'revisions', key: 'needs-config.zip', bundleType: 'zip' } }, fileExistsBehavior: 'OVERWRITE' })); // the web group's deployments left the same files
    const id = r.deploymentId!;
    await page.click(`[data-deployment=${id}]`, { timeout: 15_000 });

    // the first host fails and the deployment waits, showing why, with the three answers
    const held = page.locator('[data-testid=held-instance]');
    await held.waitFor({ timeout: 60_000 });
    const name = (await held.getAttribute('data-instance'))!;
    expect(await held.locator('p').textContent()).toMatch(new RegExp(`^${name} failed in AfterInstall \\(ScriptFailed\\): `));
    await expect.poll(() => held.locator('[data-testid=held-log-tail]').textContent(), { timeout: 15_000 }).toContain(`shop config missing: ${marker}`);
    expect(await held.locator('button').allTextContents()).toEqual(['Retry', 'Skip', 'Fail']);
    expect(await page.textContent('[data-testid=deployment-status]')).toBe('InProgress');
    if (shots !== undefined) await page.screenshot({ path: path.join(shots, 'guided.png'), fullPage: true });

    // a read-only key sees the failure but no answers, and is refused if it answers anyway
    const reader = await signIn(readOnly);
    await choose(reader.page, id, 'guided');
    await reader.page.locator('[data-testid=held-instance]').waitFor({ timeout: 15_000 });
    expect(await reader.page.locator('[data-testid=held-instance] button').count()).toBe(0);
    const refused = await reader.page.evaluate(async (input) => {
      const { csrfToken } = (await (await fetch('/_console/api/session')).json()) as { csrfToken: string };
      const res = await fetch('/_console/api/call/ResolveInstanceFailure', { method: 'POST', headers: { 'content-type': 'application/json', 'x-fleetdeploy-csrf': csrfToken }, body: JSON.stringify(input) });
      return { status: res.status, body: (await res.json()) as { __type: string } };
    }, { deploymentId: id, instanceId: name, action: 'retry' });
    expect(refused).toMatchObject({ status: 403, body: { __type: 'AccessDeniedException' } });
    await reader.context.close();
    expect(await statusOf(id)).toBe('InProgress');

    // fix what the script needed, retry in the page: the deployment goes on and ends green without a reload
    fs.writeFileSync(marker, '');
    await held.locator('button:text-is("Retry")').click();
    await expect.poll(() => page.textContent('[role=status]'), { timeout: 15_000 }).toMatch(new RegExp(`^Retrying ${name}`));
    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 90_000 }).toBe('Succeeded');
    expect(await held.count()).toBe(0);
    await expect.poll(() => page.textContent('.overview'), { timeout: 10_000 }).toBe(`Succeeded ${AGENTS}`);
    expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
    expect(await statusOf(id)).toBe('Succeeded');
    await context.close();
  }, SLOW);

  it('shows a read-only key no buttons, and refuses its stop when it asks anyway (403)', async () => {
    const id = await deploy('slow.zip');
    const { context, page } = await signIn(readOnly);
    expect(await page.textContent('[data-testid=role]')).toBe('read-only');
    await choose(page, id);
    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 15_000 }).toBe('InProgress');
    expect(await page.locator('.actions button').count()).toBe(0);
    // what a page script (or a person at the developer tools) could send
    const refused = await page.evaluate(async (deploymentId) => {
      const { csrfToken } = (await (await fetch('/_console/api/session')).json()) as { csrfToken: string };
      const r = await fetch('/_console/api/call/StopDeployment', { method: 'POST', headers: { 'content-type': 'application/json', 'x-fleetdeploy-csrf': csrfToken }, body: JSON.stringify({ deploymentId }) });
      return { status: r.status, body: (await r.json()) as { __type: string } };
    }, id);
    expect(refused).toMatchObject({ status: 403, body: { __type: 'AccessDeniedException' } });
    expect(await statusOf(id)).toBe('InProgress');
    await context.close();

    // an admin stops it with the button
    const adminView = await signIn(admin);
    await choose(adminView.page, id);
    await adminView.page.click('.actions button:text-is("Stop")');
    await expect.poll(() => adminView.page.textContent('[data-testid=deployment-status]'), { timeout: 60_000 }).toBe('Stopped');
    expect(await statusOf(id)).toBe('Stopped');
    expect(await adminView.page.textContent('[role=status]')).toMatch(/^Stop requested/);
    expect(await adminView.page.locator('.actions button').count()).toBe(0); // nothing left to stop
    await adminView.context.close();
  }, SLOW);

  it('stops and rolls back with its button: the rollback deployment appears in the list by itself', async () => {
    const id = await deploy('slow.zip');
    const { context, page } = await signIn(admin);
    await choose(page, id);
    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 15_000 }).toBe('InProgress');
    await page.click('.actions button:text-is("Stop and roll back")');
    await expect.poll(() => page.textContent('[data-testid=deployment-status]'), { timeout: 60_000 }).toBe('Stopped');
    const rollback = (await codedeploy.send(new GetDeploymentCommand({ deploymentId: id }))).deploymentInfo!.rollbackInfo?.rollbackDeploymentId;
    expect(rollback).toMatch(/^d-[A-Z0-9]{9}$/);
    // made by the coordinator, not by this page: it shows up in the group's list from the stream
    await expect.poll(() => page.locator(`[data-deployment=${rollback}] .status`).textContent(), { timeout: 60_000 }).toBe('Succeeded');
    await context.close();
  }, SLOW);

  it('goes back to sign-in by itself when the session ends, without a click', async () => {
    const short = await startCoordinator({ args: ['--console-session-seconds', '2'] });
    try {
      const { context, page } = await signIn(short.credentials, short.apiUrl);
      await expect.poll(() => page.textContent('[data-testid=live]')).toBe('live');
      // the stream is closed when the session ends (checked every 2 s); the page then asks and finds it gone
      await page.waitForSelector('form.signin', { timeout: 15_000 });
      expect(await page.textContent('form.signin [role=alert]')).toBe('Your session ended; sign in again.');
      await context.close();
    } finally {
      await short.stop();
    }
  }, SLOW);

  it('draws 1,000 hosts as one canvas, and loads about as fast as the demo fleet (printed)', async () => {
    big = await startCoordinator();
    const sdk = new CodeDeployClient({ endpoint: big.apiUrl, region: 'us-east-1', credentials: big.credentials, maxAttempts: 1 });
    const names = Array.from({ length: 1000 }, (_, i) => `host-${String(i + 1).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((instanceName) => sdk.send(new RegisterOnPremisesInstanceCommand({ instanceName, iamUserArn: `arn:aws:iam::000000000000:user/${instanceName}` }))));
    }
    sdk.destroy();
    const demo = await signIn(admin);
    const thousand = await signIn(big.credentials, big.apiUrl);
    const times = { demo: [] as Awaited<ReturnType<typeof loadTimes>>[], thousand: [] as Awaited<ReturnType<typeof loadTimes>>[] };
    for (let round = 0; round < 5; round++) {
      times.demo.push(await loadTimes(demo.page, AGENTS));
      times.thousand.push(await loadTimes(thousand.page, 1000));
    }
    const line = (name: string, t: typeof times.demo): string =>
      `${name}: page ready ${median(t.map((x) => x.domContentLoaded)).toFixed(0)} ms, fleet shown ${median(t.map((x) => x.fleet)).toFixed(0)} ms, canvas draw ${median(t.map((x) => x.draw)).toFixed(2)} ms`;
    console.log(`console load, medians of 5 interleaved reloads:\n  ${line(`demo fleet (${AGENTS} hosts)`, times.demo)}\n  ${line('1,000 hosts', times.thousand)}`);

    const page = thousand.page;
    expect(await page.textContent('.fleet h2')).toContain('1000 hosts');
    expect(await page.textContent('[data-testid=count-offline]')).toBe('1000'); // registered, no agent
    // one canvas, not a thousand elements
    expect(await page.evaluate(() => document.querySelectorAll('*').length)).toBeLessThan(200);
    await page.hover('canvas', { position: { x: 3, y: 3 } });
    await expect.poll(() => page.textContent('.legend .hover')).toBe('host-0001: agent offline');
    if (shots !== undefined) await page.locator('section.fleet').screenshot({ path: path.join(shots, 'fleet-1000.png') });
    await demo.context.close();
    await thousand.context.close();
  }, SLOW);
});

// Screenshots land in a folder that must exist; a typo in the variable should fail loudly, not skip.
if (shots !== undefined && !fs.existsSync(shots)) throw new Error(`FLEETDEPLOY_CONSOLE_SCREENSHOTS=${shots}: no such folder`);
