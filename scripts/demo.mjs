#!/usr/bin/env node
// `npm run demo`: starts a simulated fleet on this machine (a coordinator and three agents, each in
// its own sandbox, as `fleetdeploy simulate --agents 3` does), then runs the fleetdeploy commands an
// operator would: `app create`, `group create` and `deploy --bundle examples/hello-web --watch`, one
// host at a time, so the demo shows exactly what the command line shows. Everything lives under
// $TMPDIR/fleetdeploy-demo; the fleet is stopped at the end.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, freshFolder, loadCli, repo } from './lib/demo-start.mjs';

const cliBin = path.join(repo, 'packages/cli/bin/fleetdeploy.js');
const example = path.join(repo, 'examples/hello-web');
const base = path.join(os.tmpdir(), 'fleetdeploy-demo');
const APPLICATION = 'HelloWeb';
const GROUP = 'HelloWeb-sim';
/** WATCH_LIMIT_MS bounds the deployment: three hosts of hello-web take a few seconds. */
const WATCH_LIMIT_MS = 120_000;

const { startSimulation, parseSimulateOptions, credentialLines, DESTINATION_ROOT_ENV, isCliError } = await loadCli();
const { ListDeploymentsCommand } = await import('@aws-sdk/client-codedeploy');

const bold = process.stdout.isTTY ? (t) => `\x1b[1m${t}\x1b[0m` : (t) => t;
const heading = (text) => console.log(`\n${bold(`== ${text}`)}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

/**
 * helloWebRevision copies examples/hello-web to `dir` for `deploy --bundle`. Only AppSpec
 * destinations are mapped into each host's sandbox by the agent; the example's scripts name the same
 * absolute paths, so the copies put the sandbox in front of them ($FLEETDEPLOY_DESTINATION_ROOT,
 * empty on a real host).
 */
function helloWebRevision(dir) {
  fs.cpSync(example, dir, { recursive: true });
  const scripts = path.join(dir, 'scripts');
  for (const name of fs.readdirSync(scripts)) {
    const file = path.join(scripts, name);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replaceAll('/tmp/fleetdeploy-demo', `\${${DESTINATION_ROOT_ENV}}/tmp/fleetdeploy-demo`));
  }
  return dir;
}

/** listFiles lists the files under dir as paths relative to it, sorted. */
function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

/**
 * fleetdeploy runs the command line as an operator would, against the simulation with its admin key,
 * on this terminal (so `--watch` draws its bars here); resolves with its exit code.
 */
function fleetdeploy(args, limitMs = 30_000) {
  console.log(`  $ fleetdeploy ${args.map((a) => (/[\s'"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'FLEETDEPLOY_ENDPOINT'));
  Object.assign(env, { AWS_ACCESS_KEY_ID: sim.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: sim.credentials.secretAccessKey, AWS_REGION: 'us-east-1', FLEETDEPLOY_ENDPOINT: sim.apiUrl, ...(sim.caFile === undefined ? {} : { AWS_CA_BUNDLE: sim.caFile }) });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env, stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGINT'), limitMs); // a watch interrupted says how to resume it
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

freshFolder(base);
let sim;
let interrupted = false;
const stopOnSignal = async (signal) => {
  if (interrupted) return;
  interrupted = true;
  console.log(`\n${signal}: stopping the simulated fleet`);
  await sim?.stop();
  process.exit(130);
};
process.on('SIGINT', stopOnSignal);
process.on('SIGTERM', stopOnSignal);

let exitCode = 1;
try {
  heading('1. Start a simulated fleet: a coordinator and 3 agents on this machine (fleetdeploy simulate --agents 3)');
  sim = await startSimulation(parseSimulateOptions({ agents: '3', port: '0', dataDir: base }), {
    onAgentConnected: (h) => console.log(`  ${h.name} connected  (${h.tags.map((t) => `${t.Key}=${t.Value}`).join(', ')}; sandbox ${h.dir})`),
  });
  console.log(`  API endpoint ${sim.apiUrl} (HTTPS; its CA certificate: ${sim.caFile}), agents' gRPC service ${sim.agentAddress}`);
  const missing = await Promise.race([sim.waitForAgents(20_000), sim.failed.then((e) => { throw e; })]);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} did not connect within 20 s (see ${base}/hosts/<name>/agent.log)`);

  heading(`2. Create ${APPLICATION} and its group ${GROUP} (instances tagged env=sim, one at a time), then deploy examples/hello-web and watch it`);
  const setup = [
    ['app', 'create', APPLICATION],
    ['group', 'create', GROUP, '--application', APPLICATION, '--tag', 'env=sim', '--config', 'CodeDeployDefault.OneAtATime'],
  ];
  for (const args of setup) {
    const code = await fleetdeploy(args);
    if (code !== 0) throw new Error(`fleetdeploy ${args.slice(0, 2).join(' ')} exited ${code} (coordinator log: ${sim.coordinatorLog})`);
  }
  const revision = helloWebRevision(path.join(base, 'hello-web'));
  const watched = await Promise.race([
    fleetdeploy(['deploy', '--application', APPLICATION, '--group', GROUP, '--bundle', revision, '--description', 'npm run demo', '--watch'], WATCH_LIMIT_MS),
    sim.failed.then((e) => { throw e; }),
  ]);
  const deploymentId = (await sim.clients.codedeploy.send(new ListDeploymentsCommand({ applicationName: APPLICATION, deploymentGroupName: GROUP }))).deployments?.[0] ?? 'DEPLOYMENT_ID';

  heading('Where to look');
  for (const h of sim.hosts) {
    console.log(`  ${h.name}  files under ${h.filesDir} (the AppSpec's files, and what its hooks wrote):`);
    for (const f of listFiles(h.filesDir)) console.log(`          ${f}`);
    for (const f of listFiles(h.rootDir).filter((f) => f.endsWith('logs/scripts.log'))) console.log(`        scripts.log: ${path.join(h.rootDir, f)}`);
    console.log(`        agent log:   ${h.logFile}`);
  }
  console.log(`  coordinator log: ${sim.coordinatorLog}`);
  console.log('\n  The fleet stops when the demo ends. To bring it back with its history and ask the API yourself:');
  console.log(`    npx fleetdeploy simulate --agents 3 --data-dir ${base}      # then, in another shell:`);
  for (const line of credentialLines(sim.credentials)) console.log(`    export ${line}`);
  console.log(`    export AWS_CA_BUNDLE=${path.join(base, 'coordinator', 'ca', 'ca.pem')}      # the coordinator's CA: its API speaks HTTPS`);
  console.log(`    npx fleetdeploy status ${deploymentId} --endpoint-url https://127.0.0.1:7180`);
  console.log(`    aws deploy get-deployment --deployment-id ${deploymentId} --endpoint-url https://127.0.0.1:7180`);
  console.log(`    aws deploy list-deployment-targets --deployment-id ${deploymentId} --endpoint-url https://127.0.0.1:7180`);
  console.log('    or open https://127.0.0.1:7180/_console/ in a browser (it will ask you to trust the coordinator\'s CA, ca.pem above) and sign in with that key (the web console)');
  exitCode = watched === 0 ? 0 : 1;
} catch (err) {
  const where = isCliError(err) && err.code === 'API_FAILED' && sim ? ` (coordinator log: ${sim.coordinatorLog})` : '';
  console.error(`ERROR: ${err instanceof Error ? err.message : String(err)}${where}`);
  exitCode = 1;
} finally {
  if (!interrupted) {
    await sim?.stop();
    console.log(`\n(the simulated fleet is stopped; demo finished in ${elapsed().trim()})`);
  }
}
if (!interrupted) process.exit(exitCode);
