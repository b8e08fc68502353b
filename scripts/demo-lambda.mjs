#!/usr/bin/env node
// `npm run demo:lambda`: AWS's "CodeDeploy for Lambda" walkthrough, end to end on this machine.
// It starts `fleetdeploy simulate --local-aws` (a coordinator, one agent, and moto_server as the
// local Lambda/CloudWatch endpoint, with the hook functions played locally), makes a function with
// two published versions and an alias `live`, an application (--compute-platform Lambda) and a group
// with an alarm and automatic rollback, then:
//   1. deploys version 2 with CodeDeployDefault.LambdaCanary10Percent5Minutes and a
//      BeforeAllowTraffic hook that validates the new version: the alias's weights move 10 %, then 100 %;
//   2. deploys version 3 the same way, sets the group's alarm to ALARM while 10 % is on version 3:
//      the deployment stops with ALARM_ACTIVE and the alias goes back to version 2.
// Time scale: the coordinator runs with test_only_minute_ms 1000, so one CodeDeploy minute lasts
// one second here (the canary's 5 minutes take 5 s); everything else is as CodeDeploy does it.
// Exits 0 when both deployments end as described. Everything lives under $TMPDIR/fleetdeploy-demo-lambda.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fail, freshFolder, loadCli, repo } from './lib/demo-start.mjs';

const cliBin = path.join(repo, 'packages/cli/bin/fleetdeploy.js');
const base = path.join(os.tmpdir(), 'fleetdeploy-demo-lambda');
/** MINUTE_MS is the demo's CodeDeploy minute (test_only_minute_ms). */
const MINUTE_MS = 1000;
const FUNCTION = 'my-function';
const APPLICATION = 'my-function-app';
const GROUP = 'my-function-live';
const ALARM = 'my-function-errors';
const BEFORE_HOOK = 'my-function-before-traffic';
const AFTER_HOOK = 'my-function-after-traffic';
const CONFIG = 'CodeDeployDefault.LambdaCanary10Percent5Minutes';
const DEPLOYMENT_LIMIT_MS = 60_000;

const cli = await loadCli();
if (cli.findMotoServer() === undefined) fail(`${cli.MOTO_INSTALL}; npm run demo:lambda uses it as the local Lambda and CloudWatch endpoint`);

const { LambdaClient, CreateFunctionCommand, PublishVersionCommand, UpdateFunctionCodeCommand, CreateAliasCommand, GetAliasCommand, GetFunctionConfigurationCommand } = await import('@aws-sdk/client-lambda');
const { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand } = await import('@aws-sdk/client-cloudwatch');
const { CreateDeploymentCommand, GetDeploymentCommand, GetDeploymentTargetCommand } = await import('@aws-sdk/client-codedeploy');
const AdmZip = (await import('adm-zip')).default;

const bold = process.stdout.isTTY ? (t) => `\x1b[1m${t}\x1b[0m` : (t) => t;
const heading = (text) => console.log(`\n${bold(`== ${text}`)}`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const show = (command) => console.log(`  $ ${command}`);

/** fleetdeploy runs the command line as an operator would, against the simulation; resolves with its exit code. */
function fleetdeploy(args, limitMs = 30_000) {
  show(`fleetdeploy ${args.map((a) => (/[\s'"]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'FLEETDEPLOY_ENDPOINT'));
  Object.assign(env, { AWS_ACCESS_KEY_ID: sim.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: sim.credentials.secretAccessKey, AWS_REGION: 'us-east-1', FLEETDEPLOY_ENDPOINT: sim.apiUrl, ...(sim.caFile === undefined ? {} : { AWS_CA_BUNDLE: sim.caFile }) });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { env, stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGINT'), limitMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal === null ? 1 : 128));
    });
  });
}

/** functionCode is a zip with a handler that returns `version` (moto stores it; it never runs it). */
function functionCode(version) {
  const zip = new AdmZip();
  zip.addFile('index.py', Buffer.from(`def handler(event, context):\n    return "${version}"\n`));
  return zip.toBuffer();
}

/** appSpec is the walkthrough's AppSpec: the alias live moves from `current` to `target`. */
function appSpec(current, target) {
  return [
    'version: 0.0',
    'Resources:',
    '  - myLambdaFunction:',
    '      Type: AWS::Lambda::Function',
    '      Properties:',
    `        Name: ${FUNCTION}`,
    '        Alias: live',
    `        CurrentVersion: "${current}"`,
    `        TargetVersion: "${target}"`,
    'Hooks:',
    `  - BeforeAllowTraffic: ${BEFORE_HOOK}`,
    `  - AfterAllowTraffic: ${AFTER_HOOK}`,
    '',
  ].join('\n');
}

/** aliasText is the alias as Lambda serves it: `version 1 90 %, version 2 10 %`. */
function aliasText(alias) {
  const extra = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
  const extraTotal = Object.values(extra).reduce((a, b) => a + b, 0);
  const parts = [`version ${alias.FunctionVersion} ${Math.round((1 - extraTotal) * 100)} %`, ...Object.entries(extra).map(([v, w]) => `version ${v} ${Math.round(w * 100)} %`)];
  return parts.join(', ');
}

/**
 * follow prints the alias's weights as they move (read from the Lambda endpoint every 100 ms) and
 * the deployment's status changes, until it ends; `onWeight` hears each new alias state.
 */
async function follow(deploymentId, onWeight = () => {}) {
  let lastAlias = '';
  let lastStatus = '';
  const deadline = Date.now() + DEPLOYMENT_LIMIT_MS;
  for (;;) {
    const info = (await sim.clients.codedeploy.send(new GetDeploymentCommand({ deploymentId }))).deploymentInfo;
    if (info.status !== lastStatus) {
      console.log(`  ${elapsed()}  deployment ${deploymentId} ${info.status}${info.errorInformation?.code ? ` (${info.errorInformation.code}: ${info.errorInformation.message})` : ''}`);
      lastStatus = info.status;
    }
    const alias = await lambda.send(new GetAliasCommand({ FunctionName: FUNCTION, Name: 'live' }));
    const text = aliasText(alias);
    if (text !== lastAlias) {
      console.log(`  ${elapsed()}  alias live: ${text}`);
      lastAlias = text;
      await onWeight(alias);
    }
    if (['Succeeded', 'Failed', 'Stopped'].includes(info.status)) {
      const final = await lambda.send(new GetAliasCommand({ FunctionName: FUNCTION, Name: 'live' }));
      if (aliasText(final) !== lastAlias) console.log(`  ${elapsed()}  alias live: ${aliasText(final)}`);
      return { info, alias: final };
    }
    if (Date.now() > deadline) throw new Error(`deployment ${deploymentId} did not end within ${DEPLOYMENT_LIMIT_MS / 1000} s (coordinator log: ${sim.coordinatorLog})`);
    await sleep(100);
  }
}

/**
 * validate is the BeforeAllowTraffic function's body, played locally: it reads the deployment's
 * target version from the coordinator and checks with Lambda that this version exists and is Active.
 */
async function validate(call) {
  if (call.functionName !== BEFORE_HOOK) {
    console.log(`  ${elapsed()}  hook ${call.functionName}: invoked → Succeeded (played by the hook runner's rule)`);
    return undefined;
  }
  const target = await sim.clients.codedeploy.send(new GetDeploymentTargetCommand({ deploymentId: call.payload.DeploymentId, targetId: `${FUNCTION}:live` }));
  const version = target.deploymentTarget?.lambdaTarget?.lambdaFunctionInfo?.targetVersion;
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: FUNCTION, Qualifier: version }));
  const ok = config.Version === version && (config.State ?? 'Active') === 'Active';
  console.log(`  ${elapsed()}  hook ${BEFORE_HOOK}: ${FUNCTION} version ${version} is ${config.State ?? 'Active'} (code ${config.CodeSha256?.slice(0, 12)}...) → ${ok ? 'Succeeded' : 'Failed'}`);
  return ok ? 'Succeeded' : 'Failed';
}

freshFolder(base);

let sim;
let lambda;
let cloudwatch;
let interrupted = false;
process.on('SIGINT', async () => {
  if (interrupted) return;
  interrupted = true;
  console.log('\nSIGINT: stopping the simulation');
  await sim?.stop();
  process.exit(130);
});

let exitCode = 1;
try {
  heading('1. Start the simulation with a local AWS endpoint (fleetdeploy simulate --local-aws)');
  console.log(`  time scale: one CodeDeploy minute lasts ${MINUTE_MS} ms here (coordinator test_only_minute_ms); alarms are polled every second`);
  const options = { ...cli.parseSimulateOptions({ agents: '1', port: '0', dataDir: base, localAws: true }), coordinatorSettings: { test_only_minute_ms: MINUTE_MS, alarm_poll_interval_seconds: 1 } };
  sim = await cli.startSimulation(options, { lambdaHook: validate, onHookError: (m) => console.log(`  WARNING: ${m}`) });
  const aws = sim.localAws.url;
  console.log(`  coordinator API ${sim.apiUrl}; Lambda and CloudWatch (moto_server) ${aws}`);
  for (const l of cli.localAwsExportLines(aws, sim.apiUrl)) console.log(`  ${l}`);
  if (sim.caFile !== undefined) console.log(`  export AWS_CA_BUNDLE=${sim.caFile}   # the coordinator's CA (its API speaks HTTPS; moto's plain HTTP needs none)`);
  const fakeAws = { region: 'us-east-1', endpoint: aws, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  lambda = new LambdaClient(fakeAws);
  cloudwatch = new CloudWatchClient(fakeAws);

  heading(`2. A function ${FUNCTION} with versions 1 and 2, and an alias live on version 1`);
  // IAM's query API, unsigned: moto routes it by the credential scope. Lambda wants an existing role.
  const role = await fetch(`${sim.localAws.motoUrl}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0' },
    body: 'Action=CreateRole&Version=2010-05-08&RoleName=lambda-role&AssumeRolePolicyDocument=%7B%7D',
  });
  if (!role.ok) throw new Error(`moto CreateRole: ${role.status} ${await role.text()}`);
  const roleArn = 'arn:aws:iam::123456789012:role/lambda-role';
  show(`aws lambda create-function --function-name ${FUNCTION} --runtime python3.11 --handler index.handler --role ${roleArn} --zip-file fileb://v1.zip && aws lambda publish-version --function-name ${FUNCTION}`);
  await lambda.send(new CreateFunctionCommand({ FunctionName: FUNCTION, Runtime: 'python3.11', Role: roleArn, Handler: 'index.handler', Code: { ZipFile: functionCode('v1') } }));
  await lambda.send(new PublishVersionCommand({ FunctionName: FUNCTION }));
  show(`aws lambda update-function-code --function-name ${FUNCTION} --zip-file fileb://v2.zip --publish`);
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FUNCTION, ZipFile: functionCode('v2') }));
  await lambda.send(new PublishVersionCommand({ FunctionName: FUNCTION }));
  show(`aws lambda create-alias --function-name ${FUNCTION} --name live --function-version 1`);
  await lambda.send(new CreateAliasCommand({ FunctionName: FUNCTION, Name: 'live', FunctionVersion: '1' }));
  show(`aws cloudwatch put-metric-alarm --alarm-name ${ALARM} --namespace AWS/Lambda --metric-name Errors ... && aws cloudwatch set-alarm-state --alarm-name ${ALARM} --state-value OK`);
  await cloudwatch.send(new PutMetricAlarmCommand({ AlarmName: ALARM, Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: FUNCTION }], Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' }));
  await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'OK', StateReason: 'demo: all is well' }));

  heading(`3. An application on the Lambda compute platform, and a group with ${CONFIG}, the alarm and automatic rollback`);
  for (const args of [
    ['app', 'create', APPLICATION, '--compute-platform', 'Lambda'],
    ['group', 'create', GROUP, '--application', APPLICATION, '--config', CONFIG, '--alarm', ALARM, '--auto-rollback', 'DEPLOYMENT_FAILURE,DEPLOYMENT_STOP_ON_ALARM'],
  ]) {
    const code = await fleetdeploy(args);
    if (code !== 0) throw new Error(`fleetdeploy ${args.slice(0, 2).join(' ')} exited ${code} (coordinator log: ${sim.coordinatorLog})`);
  }

  const deploy = async (current, target) => {
    show(`aws deploy create-deployment --application-name ${APPLICATION} --deployment-group-name ${GROUP} --revision '{"revisionType":"AppSpecContent","appSpecContent":{"content":"<AppSpec: ${FUNCTION} live ${current} → ${target}>"}}'`);
    const out = await sim.clients.codedeploy.send(new CreateDeploymentCommand({ applicationName: APPLICATION, deploymentGroupName: GROUP, revision: { revisionType: 'AppSpecContent', appSpecContent: { content: appSpec(current, target) } } }));
    console.log(`  created ${out.deploymentId}`);
    return out.deploymentId;
  };

  heading(`4. Deploy version 2: BeforeAllowTraffic validates it, then 10 % of the traffic for 5 (demo) minutes, then all of it`);
  const first = await deploy('1', '2');
  const one = await follow(first);
  console.log('  what the operator\'s command line shows of it:');
  await fleetdeploy(['status', first]);
  const firstOk = one.info.status === 'Succeeded' && one.alias.FunctionVersion === '2' && Object.keys(one.alias.RoutingConfig?.AdditionalVersionWeights ?? {}).length === 0;

  heading('5. Publish version 3 and deploy it; while 10 % of the traffic is on it, the alarm goes off');
  show(`aws lambda update-function-code --function-name ${FUNCTION} --zip-file fileb://v3.zip --publish`);
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: FUNCTION, ZipFile: functionCode('v3') }));
  await lambda.send(new PublishVersionCommand({ FunctionName: FUNCTION }));
  const second = await deploy('2', '3');
  let alarmed = false;
  const two = await follow(second, async (alias) => {
    if (alarmed || alias.RoutingConfig?.AdditionalVersionWeights?.['3'] === undefined) return;
    alarmed = true;
    show(`aws cloudwatch set-alarm-state --alarm-name ${ALARM} --state-value ALARM --state-reason 'errors on version 3'`);
    await cloudwatch.send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: 'ALARM', StateReason: 'demo: errors on version 3' }));
  });
  await fleetdeploy(['status', second]);
  const secondOk = two.info.status === 'Stopped' && two.info.errorInformation?.code === 'ALARM_ACTIVE' && two.alias.FunctionVersion === '2' && Object.keys(two.alias.RoutingConfig?.AdditionalVersionWeights ?? {}).length === 0;

  heading('Outcome');
  console.log(`  ${first}: ${one.info.status}; alias live on version ${one.alias.FunctionVersion} ${firstOk ? '(as expected)' : '(EXPECTED Succeeded with the alias on version 2)'}`);
  console.log(`  ${second}: ${two.info.status} ${two.info.errorInformation?.code ?? ''}; alias live back on version ${two.alias.FunctionVersion} ${secondOk ? '(as expected)' : '(EXPECTED Stopped with ALARM_ACTIVE and the alias back on version 2)'}`);
  console.log('\n  To look yourself, start it again and ask the API (the data stays in the folder):');
  console.log(`    npx fleetdeploy simulate --local-aws --agents 1 --data-dir ${base}`);
  console.log(`    npx fleetdeploy status ${second} --endpoint-url https://127.0.0.1:7180`);
  console.log(`  coordinator log: ${sim.coordinatorLog}`);
  exitCode = firstOk && secondOk ? 0 : 1;
} catch (err) {
  console.error(`ERROR: ${err instanceof Error ? err.message : String(err)}${sim ? ` (coordinator log: ${sim.coordinatorLog})` : ''}`);
  exitCode = 1;
} finally {
  if (!interrupted) {
    lambda?.destroy();
    cloudwatch?.destroy();
    await sim?.stop();
    console.log(`\n(the simulation is stopped; demo finished in ${elapsed().trim()})`);
  }
}
if (!interrupted) process.exit(exitCode);
