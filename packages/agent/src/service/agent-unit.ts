/**
 * The agent's systemd unit (pure). The agent runs as root, as the AWS agent does: hook scripts
 * install files anywhere and manage other services. What systemd can still fence off without
 * breaking scripts is: kernel logs, realtime scheduling and the execution domain.
 *
 * KillMode=process: a stop or restart signals the agent alone, so hook scripts it started are not
 * killed with it (the AWS agent's issues #356 and #402: a `systemctl restart codedeploy-agent` inside
 * a hook killed the hook). The agent, on SIGTERM, waits up to shutdown_wait_seconds for running
 * events, so TimeoutStopSec leaves it that long and 30 s more.
 */
import { execLine } from '@fleetdeploy/shared';
import type { UnitSections } from '@fleetdeploy/shared';

/** AGENT_SERVICE is the unit's name. */
export const AGENT_SERVICE = 'fleetdeploy-agent';

/** AgentUnitInput is what the unit needs to know. */
export interface AgentUnitInput {
  /** The Node.js binary and the agent's script, as absolute paths. */
  node: string;
  script: string;
  configFile: string;
  shutdownWaitSeconds: number;
}

/** agentUnit describes the agent's unit. */
export function agentUnit(o: AgentUnitInput): UnitSections {
  return {
    Unit: [
      ['Description', 'fleetdeploy agent: runs CodeDeploy-compatible deployments on this host'],
      ['Documentation', 'https://github.com/fleetdeploy/fleetdeploy#fleetdeploy-agent-run-the-daemon'],
      ['After', 'network-online.target'],
      ['Wants', 'network-online.target'],
    ],
    Service: [
      ['Type', 'simple'],
      ['ExecStart', execLine([o.node, o.script, 'run', '--config', o.configFile])],
      // The agent reopens its log file on SIGHUP (logrotate's postrotate does the same).
      ['ExecReload', '/bin/kill -HUP $MAINPID'],
      ['Restart', 'on-failure'],
      ['RestartSec', '5'],
      ['KillMode', 'process'],
      ['TimeoutStopSec', String(o.shutdownWaitSeconds + 30)],
      ['ProtectKernelLogs', 'yes'],
      ['RestrictRealtime', 'yes'],
      ['LockPersonality', 'yes'],
    ],
    Install: [['WantedBy', 'multi-user.target']],
  };
}
