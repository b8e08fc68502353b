/**
 * Builders for daemon tests: a revision packed as a tar in memory, the LifecycleCommand a
 * coordinator would send for it, an agent configuration under a temp folder, and a logger that keeps
 * its lines.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { LifecycleCommand } from '@fleetdeploy/protocol';
import { ustar } from '../bundle/test-support.js';
import { defaultAgentConfig } from '../config/agent-config.js';
import type { AgentConfig } from '../config/agent-config.js';
import type { Logger } from '../log.js';

/** revisionTar packs `files` (path → text; paths under scripts/ are executable) as a tar bundle. */
export function revisionTar(files: Record<string, string>): Buffer {
  return ustar(Object.entries(files).map(([name, data]) => ({ name, data, mode: name.startsWith('scripts/') ? 0o755 : 0o644 })));
}

/** sha256 is the hex digest of `bytes`. */
export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** lifecycleCommand is a command for `event` of deployment `deploymentId` whose S3 bundle is `bundle`. */
export function lifecycleCommand(commandId: string, event: string, bundle: Buffer, opts: { deploymentId?: string; sha256?: string } = {}): LifecycleCommand {
  return {
    commandId,
    lifecycleEvent: event,
    timeoutSeconds: 600,
    deployment: {
      deploymentId: opts.deploymentId ?? 'd-TEST00001',
      deploymentGroupId: 'g-1',
      deploymentGroupName: 'group',
      applicationName: 'app',
      deploymentCreator: 'user',
      deploymentType: 'IN_PLACE',
      appspecFilename: '',
      fileExistsBehavior: 'OVERWRITE',
      revision: { s3: { bucket: 'b', key: 'app.tar', version: '', etag: '' }, bundleType: 'tar', sha256: opts.sha256 ?? sha256(bundle), size: bundle.length },
    },
  };
}

/** daemonConfig is an agent configuration rooted in `work`. */
export function daemonConfig(work: string, extra: Partial<AgentConfig> = {}): AgentConfig {
  return { ...defaultAgentConfig, rootDir: path.join(work, 'root'), scriptKillGraceMs: 300, shutdownWaitMs: 5_000, plaintext: true, ...extra };
}

/** LogLine is one line a {@link recordingLogger} kept. */
export interface LogLine {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** recordingLogger keeps every line (with its bindings) in `lines`. */
export function recordingLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const at = (level: string) => (fields: object, message: string) => {
    lines.push({ level, message, fields: { ...bindings, ...fields } });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => recordingLogger(lines, { ...bindings, ...b }) };
}
