/**
 * `fleetdeploy simulate`: starts a simulation, prints where its API is and which credentials to use,
 * and runs until SIGINT, SIGTERM or SIGHUP (then stops the agents and the coordinator and exits 0), or until
 * the coordinator or an agent dies (then stops the rest and fails, naming it).
 */
import { exportLines } from './credentials.js';
import { watchParent } from './parent-watch.js';
import { parseSimulateOptions } from './options.js';
import type { RawSimulateOptions } from './options.js';
import { startSimulation } from './simulation.js';
import { FAILING_SUFFIX } from './hook-runner.js';
import { localAwsExportLines } from './local-aws.js';
import { SITE_ROOT } from './site-servers.js';

/** Output is where the command writes its lines (stdout in the real command). */
export interface Output {
  line(text: string): void;
}

/** AGENT_CONNECT_WAIT_MS is how long the command waits before saying which agents have not connected. */
const AGENT_CONNECT_WAIT_MS = 30_000;

/** PER_AGENT_LINES_UP_TO caps the fleet size for which each agent's connection gets its own line. */
const PER_AGENT_LINES_UP_TO = 10;

/**
 * runSimulate runs the command to the end and resolves with its exit code (0 after a requested
 * stop); an expected failure is thrown as a CliError after everything has been stopped.
 */
export async function runSimulate(raw: RawSimulateOptions, out: Output): Promise<number> {
  const options = parseSimulateOptions(raw);
  let signalled: NodeJS.Signals | undefined;
  let onStop: (signal: NodeJS.Signals) => void = (signal) => {
    signalled = signal;
  };
  const handler = (signal: NodeJS.Signals): void => onStop(signal);
  // SIGHUP too: the children have their own process groups, so a closed terminal would orphan them.
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, handler);
  // A wrapper (npx, a script) killed by SIGKILL sends no signal: its exit counts as a hang-up.
  const unwatch = watchParent(() => onStop('SIGHUP'));
  try {
    out.line(`fleetdeploy simulate: starting ${options.localAws ? 'a local AWS endpoint (moto_server), ' : ''}${options.haproxyPort !== undefined ? 'HAProxy, ' : ''}a coordinator and ${options.agents} agent${options.agents === 1 ? '' : 's'}`);
    const sim = await startSimulation(options, {
      onAgentConnected: (host) => {
        if (options.agents <= PER_AGENT_LINES_UP_TO) out.line(`agent ${host.name} connected (${host.tags.map((t) => `${t.Key}=${t.Value}`).join(', ')}; sandbox ${host.dir})`);
      },
      onHookError: (message) => out.line(`WARNING: ${message}`),
    });
    const stopped = new Promise<NodeJS.Signals>((resolve) => {
      if (signalled !== undefined) resolve(signalled);
      onStop = resolve;
    });

    out.line('');
    out.line(`API endpoint (CodeDeploy and S3): ${sim.apiUrl}`);
    if (sim.caFile !== undefined) out.line(`API CA certificate:               ${sim.caFile}`);
    out.line(`agents' gRPC service:             ${sim.agentAddress}`);
    out.line(`agents' enrolment port:           ${sim.enrolAddress}`);
    out.line(`web console:                      ${sim.apiUrl}/_console/   (sign in with the key below)`);
    out.line(`data:                             ${sim.dataDir}`);
    out.line(`  coordinator.log, hosts/sim-K/agent.log, hosts/sim-K/root (deployments), hosts/sim-K/files (installed files)`);
    out.line('');
    out.line(`To use it from another shell, paste (the coordinator's admin key; also in ${sim.credentialsFile}):`);
    for (const l of exportLines(sim.credentials, sim.apiUrl, sim.caFile)) out.line(`  ${l}`);
    if (sim.localAws !== undefined) {
      out.line('');
      out.line(`local AWS (moto_server; Lambda, ECS, ELBv2, CloudWatch, SNS, IAM): ${sim.localAws.url}   (its log: ${sim.dataDir}/moto.log)`);
      out.line(`  the coordinator uses it for Lambda and ECS deployments and alarms; hook functions are played here: each reports`);
      out.line(`  Succeeded${options.lambdaHooksFile === undefined ? '' : ` unless ${options.lambdaHooksFile} says otherwise`}, or Failed when its name ends in ${FAILING_SUFFIX}.`);
      out.line('  For the AWS CLI (aws lambda ..., aws ecs ..., aws elbv2 ..., aws cloudwatch ..., aws deploy ...), paste as well:');
      for (const l of localAwsExportLines(sim.localAws.url, sim.apiUrl)) out.line(`  ${l}`);
    }
    if (sim.haproxy !== undefined) {
      out.line('');
      out.line(`HAProxy (--haproxy): ${sim.haproxy.url}   backend ${sim.haproxy.backend}, runtime socket ${sim.haproxy.socket}`);
      out.line(`  serving: ${sim.haproxy.serving.join(', ') || 'none'} (role=web); waiting disabled: ${sim.haproxy.waiting.join(', ') || 'none'} (role=api)`);
      out.line(`  each host serves what its agent installed at ${SITE_ROOT} (hosts/sim-K/files${SITE_ROOT}). For blue/green, a group with`);
      out.line(`  --deployment-style deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL --load-balancer-info 'targetGroupInfoList=[{name=${sim.haproxy.backend}}]'`);
      out.line(`  and a deployment with --target-instances '{"tagFilters":[{"Key":"role","Value":"api","Type":"KEY_AND_VALUE"}]}'`);
    }
    out.line('');
    out.line('For example:');
    out.line(`  aws deploy list-on-premises-instances --endpoint-url ${sim.apiUrl}`);
    out.line(`  aws s3 mb s3://revisions --endpoint-url ${sim.apiUrl}`);
    out.line('');

    const outcome = await Promise.race([
      sim.waitForAgents(AGENT_CONNECT_WAIT_MS).then((missing) => ({ kind: 'agents' as const, missing })),
      sim.failed.then((error) => ({ kind: 'failed' as const, error })),
      stopped.then((signal) => ({ kind: 'signal' as const, signal })),
    ]);
    if (outcome.kind === 'agents') {
      if (outcome.missing.length === 0) out.line(`${options.agents === 1 ? 'the agent' : `all ${options.agents} agents`} connected; press Ctrl-C to stop`);
      else out.line(`still waiting for ${outcome.missing.join(', ')} to connect (see hosts/<name>/agent.log); press Ctrl-C to stop`);
    }
    const end = outcome.kind === 'agents' ? await Promise.race([sim.failed.then((error) => ({ kind: 'failed' as const, error })), stopped.then((signal) => ({ kind: 'signal' as const, signal }))]) : outcome;
    if (end.kind === 'failed') {
      await sim.stop();
      throw end.error;
    }
    out.line(`${end.signal}: stopping the agents and the coordinator`);
    await sim.stop();
    out.line('stopped');
    return 0;
  } finally {
    unwatch();
    for (const s of signals) process.removeListener(s, handler);
  }
}

