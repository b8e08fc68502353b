#!/usr/bin/env node
// `npm run demo`: starts a simulated fleet on this machine (a coordinator and three agents, each in
// its own sandbox, as `fleetdeploy simulate --agents 3` does), deploys examples/hello-web to it through
// the CodeDeploy API one host at a time, shows each lifecycle event as it happens, and says where to
// look. Everything lives under $TMPDIR/fleetdeploy-demo; the fleet is stopped at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const cliDist = path.join(repo, 'packages/cli/dist/index.js');
const example = path.join(repo, 'examples/hello-web');
const base = path.join(os.tmpdir(), 'fleetdeploy-demo');
const APPLICATION = 'HelloWeb';
const GROUP = 'HelloWeb-sim';
const BUCKET = 'revisions';
const KEY = 'hello-web.zip';

const fail = (message) => {
  console.error(`ERROR: ${message}`);
  process.exit(1);
};
if (!fs.existsSync(cliDist)) fail('fleetdeploy is not built yet: run `npm ci` (it builds) or `npm run build` first');

const { startSimulation, parseSimulateOptions, deployBundle, watchDeployment, describeChange, credentialLines, DESTINATION_ROOT_ENV, isCliError } = await import(cliDist);
const { default: AdmZip } = await import('adm-zip');

const bold = process.stdout.isTTY ? (t) => `\x1b[1m${t}\x1b[0m` : (t) => t;
const heading = (text) => console.log(`\n${bold(`== ${text}`)}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;

/**
 * helloWebZip zips examples/hello-web. Only AppSpec destinations are mapped into each host's sandbox
 * by the agent; the example's scripts name the same absolute paths, so the bundle's copies put the
 * sandbox in front of them ($FLEETDEPLOY_DESTINATION_ROOT, empty on a real host).
 */
function helloWebZip() {
  const zip = new AdmZip();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      const name = path.relative(example, full).split(path.sep).join('/');
      if (entry.isDirectory()) walk(full);
      else {
        let content = fs.readFileSync(full);
        if (name.startsWith('scripts/')) content = Buffer.from(content.toString('utf8').replaceAll('/tmp/fleetdeploy-demo', `\${${DESTINATION_ROOT_ENV}}/tmp/fleetdeploy-demo`));
        zip.addFile(name, content, '', fs.statSync(full));
      }
    }
  };
  walk(example);
  return zip.toBuffer();
}

/** listFiles lists the files under dir as paths relative to it, sorted. */
function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

try {
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
} catch (err) {
  fail(`cannot make a fresh ${base}: ${err.code ?? err.message} (set TMPDIR to a folder you may write to)`);
}
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
  console.log(`  API endpoint ${sim.apiUrl}, agents' gRPC service ${sim.agentAddress}`);
  const missing = await Promise.race([sim.waitForAgents(20_000), sim.failed.then((e) => { throw e; })]);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} did not connect within 20 s (see ${base}/hosts/<name>/agent.log)`);

  heading(`2. Upload examples/hello-web to s3://${BUCKET}/${KEY}, create ${APPLICATION} / ${GROUP} (tag env=sim) and deploy with CodeDeployDefault.OneAtATime`);
  const { deploymentId } = await deployBundle(sim.clients, {
    applicationName: APPLICATION,
    deploymentGroupName: GROUP,
    deploymentConfigName: 'CodeDeployDefault.OneAtATime',
    bucket: BUCKET,
    key: KEY,
    bundle: helloWebZip(),
    bundleType: 'zip',
    description: 'npm run demo',
  });
  console.log(`  created deployment ${deploymentId}`);

  heading('3. Progress (one line per change: host, lifecycle event, status)');
  const info = await Promise.race([
    watchDeployment(sim.clients.codedeploy, deploymentId, { timeoutMs: 45_000, onChange: (c) => console.log(`  [${elapsed()}] ${describeChange(deploymentId, c)}`) }),
    sim.failed.then((e) => { throw e; }),
  ]);
  const o = info.deploymentOverview ?? {};
  const total = sim.hosts.length;

  heading('Outcome');
  if (info.status === 'Succeeded') console.log(`  Deployment ${deploymentId} Succeeded on ${o.Succeeded ?? 0} of ${total} hosts, one at a time, in ${elapsed().trim()}`);
  else console.log(`  Deployment ${deploymentId} ${info.status}: ${info.errorInformation?.message ?? 'see the progress above'}`);

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
  console.log(`    aws deploy get-deployment --deployment-id ${deploymentId} --endpoint-url http://127.0.0.1:7180`);
  console.log(`    aws deploy list-deployment-targets --deployment-id ${deploymentId} --endpoint-url http://127.0.0.1:7180`);
  exitCode = info.status === 'Succeeded' ? 0 : 1;
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
