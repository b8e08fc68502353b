/** Translation between the coordinator's records and the agent protocol's messages. */
import type { LifecycleCommand, Diagnostics__Output } from '@fleetdeploy/protocol';
import type { CommandRecord, DeploymentRecord } from '../store/records.js';
import type { AgentResult } from '../deployment/engine.js';

const ERROR_NAMES: Record<string, string> = {
  ERROR_CODE_SUCCESS: 'Success',
  ERROR_CODE_SCRIPT_MISSING: 'ScriptMissing',
  ERROR_CODE_SCRIPT_NOT_EXECUTABLE: 'ScriptNotExecutable',
  ERROR_CODE_SCRIPT_TIMED_OUT: 'ScriptTimedOut',
  ERROR_CODE_SCRIPT_FAILED: 'ScriptFailed',
  ERROR_CODE_UNKNOWN_ERROR: 'UnknownError',
  ERROR_CODE_OUTPUTS_LEFT_OPEN: 'OutputsLeftOpen',
  ERROR_CODE_FAILED_AFTER_RESTART: 'FailedAfterRestart',
};

/** fromDiagnostics turns the wire diagnostics into CodeDeploy's LifecycleEvent.diagnostics shape. */
export function fromDiagnostics(d: Diagnostics__Output | null): AgentResult['diagnostics'] {
  return {
    errorCode: ERROR_NAMES[d?.errorCode ?? ''] ?? 'UnknownError',
    scriptName: d?.scriptName ?? '',
    message: d?.message ?? '',
    logTail: d?.logTail ?? '',
  };
}

/** toLifecycleCommand is the command message for one event of a deployment. */
export function toLifecycleCommand(command: CommandRecord, deployment: DeploymentRecord, timeoutSeconds: number): LifecycleCommand {
  const s3 = deployment.revision.s3Location;
  const github = deployment.revision.gitHubLocation;
  return {
    commandId: command.commandId,
    lifecycleEvent: command.lifecycleEvent,
    timeoutSeconds,
    deployment: {
      deploymentId: deployment.deploymentId,
      deploymentGroupId: deployment.deploymentGroupId,
      deploymentGroupName: deployment.deploymentGroupName,
      applicationName: deployment.applicationName,
      deploymentCreator: deployment.creator,
      deploymentType: deployment.blueGreen === undefined ? 'IN_PLACE' : 'BLUE_GREEN',
      appspecFilename: 'appspec.yml',
      fileExistsBehavior: deployment.fileExistsBehavior,
      revision: {
        ...(s3 ? { s3: { bucket: s3.bucket, key: s3.key, version: s3.version ?? '', etag: s3.eTag ?? '' } } : {}),
        ...(github ? { github: { repository: github.repository, commitId: github.commitId } } : {}),
        bundleType: deployment.bundle?.bundleType ?? s3?.bundleType ?? 'zip',
        sha256: deployment.bundle?.sha256 ?? '',
        size: String(deployment.bundle?.size ?? 0),
      },
    },
  };
}
