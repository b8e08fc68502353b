/**
 * Proto ⇄ domain translation for the agent side of AgentService: a LifecycleCommand becomes an
 * {@link AgentCommand} (empty proto strings mean "absent"), and a stored result becomes a proto
 * CommandResult. Nothing else in the agent reads or builds proto messages.
 */
import { ScriptErrorCode } from '@fleetdeploy/shared';
import type { DeploymentSpec, Revision } from '@fleetdeploy/shared';
import type { CommandResult, LifecycleCommand__Output, Revision__Output } from '@fleetdeploy/protocol';
import type { ParsedCommand } from '../commands/agent-command.js';
import type { StoredResult } from '../state/results.js';

/** toParsedCommand turns a LifecycleCommand into a command the daemon can run, or says why it cannot. */
export function toParsedCommand(msg: LifecycleCommand__Output): ParsedCommand {
  const proto = msg.deployment;
  const deploymentId = proto?.deploymentId ?? '';
  const refuse = (reason: string): ParsedCommand => ({ ok: false, commandId: msg.commandId, event: msg.lifecycleEvent, deploymentId, reason });
  if (msg.lifecycleEvent === '') return refuse('the command names no lifecycle event');
  if (proto === null) return refuse('the command carries no deployment');
  if (proto.deploymentId === '') return refuse('the command\'s deployment has no deployment_id');
  if (proto.deploymentGroupId === '') return refuse('the command\'s deployment has no deployment_group_id');
  const deploymentType = proto.deploymentType === '' ? 'IN_PLACE' : proto.deploymentType;
  if (deploymentType !== 'IN_PLACE' && deploymentType !== 'BLUE_GREEN') return refuse(`unknown deployment_type ${JSON.stringify(proto.deploymentType)}`);
  if (proto.revision === null) return refuse('the command\'s deployment has no revision');
  const revision = toRevision(proto.revision);
  if (typeof revision === 'string') return refuse(revision);
  const size = Number(proto.revision.size);
  const spec: DeploymentSpec = {
    deploymentId: proto.deploymentId,
    deploymentGroupId: proto.deploymentGroupId,
    deploymentGroupName: proto.deploymentGroupName,
    applicationName: proto.applicationName,
    deploymentCreator: proto.deploymentCreator === '' ? 'user' : proto.deploymentCreator,
    deploymentType,
    appSpecFilename: proto.appspecFilename,
    fileExistsBehavior: proto.fileExistsBehavior.toUpperCase(),
    ...(proto.allPossibleLifecycleEvents.length > 0 ? { allPossibleLifecycleEvents: [...proto.allPossibleLifecycleEvents] } : {}),
    revision,
  };
  return {
    ok: true,
    command: {
      commandId: msg.commandId,
      event: msg.lifecycleEvent,
      spec,
      bundle: { sha256: proto.revision.sha256.toLowerCase(), size: Number.isSafeInteger(size) ? size : -1 },
      timeoutSeconds: msg.timeoutSeconds,
    },
  };
}

/** The domain revision of a proto one, or the reason it has none. */
function toRevision(r: Revision__Output): Revision | string {
  const bundleType = r.bundleType.toLowerCase();
  if (r.location === 's3' && r.s3) {
    if (bundleType !== 'tar' && bundleType !== 'tgz' && bundleType !== 'zip') return `S3 revision bundle_type must be tar, tgz or zip, got ${JSON.stringify(r.bundleType)}`;
    return {
      type: 'S3',
      bucket: r.s3.bucket,
      key: r.s3.key,
      bundleType,
      ...(r.s3.version === '' ? {} : { version: r.s3.version }),
      ...(r.s3.etag === '' ? {} : { etag: r.s3.etag }),
    };
  }
  if (r.location === 'github' && r.github) {
    if (bundleType !== 'tar' && bundleType !== 'zip') return `GitHub revision bundle_type must be tar or zip, got ${JSON.stringify(r.bundleType)}`;
    return { type: 'GitHub', repository: r.github.repository, commitId: r.github.commitId, bundleType };
  }
  return 'the revision names no location (expected s3 or github)';
}

/** toProtoResult is a stored result as the CommandResult message that reports it. */
export function toProtoResult(r: StoredResult): CommandResult {
  return {
    commandId: r.commandId,
    status: protoStatus(r.status),
    noop: r.noop,
    diagnostics: protoDiagnostics(r.diagnostics),
    startedAtMs: r.startedAtMs,
    endedAtMs: r.endedAtMs,
    ...(r.onFailure === undefined ? {} : { onFailure: { status: protoStatus(r.onFailure.status), diagnostics: protoDiagnostics(r.onFailure.diagnostics), startedAtMs: r.onFailure.startedAtMs, endedAtMs: r.onFailure.endedAtMs } }),
  };
}

const protoStatus = (status: StoredResult['status']): CommandResult['status'] => (status === 'Succeeded' ? 'COMMAND_STATUS_SUCCEEDED' : 'COMMAND_STATUS_FAILED');

function protoDiagnostics(d: StoredResult['diagnostics']): NonNullable<CommandResult['diagnostics']> {
  return { errorCode: ScriptErrorCode[d.errorCode], scriptName: d.scriptName, message: d.message, logTail: d.logTail };
}
