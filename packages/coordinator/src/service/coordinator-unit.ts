/**
 * The coordinator's systemd unit (pure). It runs as a user of its own that systemd makes for it
 * (DynamicUser), with its data in the state directory /var/lib/fleetdeploy (the only place it may
 * write: ProtectSystem=strict), a private /tmp, no privilege gain and no access to home directories,
 * devices or kernel settings. It needs none of these: it is a network daemon with one SQLite file.
 */
import { execLine } from '@fleetdeploy/shared';
import type { UnitSections } from '@fleetdeploy/shared';

/** COORDINATOR_SERVICE is the unit's name, and the state directory's under /var/lib. */
export const COORDINATOR_SERVICE = 'fleetdeploy';
/** COORDINATOR_DATA_DIR is its data directory. */
export const COORDINATOR_DATA_DIR = `/var/lib/${COORDINATOR_SERVICE}`;

/** CoordinatorUnitInput is what the unit needs to know. */
export interface CoordinatorUnitInput {
  node: string;
  script: string;
  /** A configuration file to run with (data_dir in it is overridden by the unit's). */
  configFile?: string;
  /** The ports it listens on: one under 1024 needs CAP_NET_BIND_SERVICE. */
  ports: readonly number[];
}

/** coordinatorUnit describes the coordinator's unit. */
export function coordinatorUnit(o: CoordinatorUnitInput): UnitSections {
  const lowPort = o.ports.some((p) => p > 0 && p < 1024);
  return {
    Unit: [
      ['Description', 'fleetdeploy coordinator: CodeDeploy-compatible API, revision bucket and deployments'],
      ['Documentation', 'https://github.com/fleetdeploy/fleetdeploy#the-coordinator-fleetdeploy-coordinator-serve'],
      ['After', 'network-online.target'],
      ['Wants', 'network-online.target'],
    ],
    Service: [
      ['Type', 'simple'],
      ['ExecStart', execLine([o.node, o.script, 'serve', '--data-dir', COORDINATOR_DATA_DIR, ...(o.configFile === undefined ? [] : ['--config', o.configFile])])],
      ['Restart', 'on-failure'],
      ['RestartSec', '5'],
      ['TimeoutStopSec', '60'],
      ['DynamicUser', 'yes'],
      ['StateDirectory', COORDINATOR_SERVICE],
      ['StateDirectoryMode', '0700'],
      ['UMask', '0077'],
      ['ProtectSystem', 'strict'],
      ['ReadWritePaths', COORDINATOR_DATA_DIR],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['PrivateDevices', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['ProtectKernelTunables', 'yes'],
      ['ProtectKernelModules', 'yes'],
      ['ProtectKernelLogs', 'yes'],
      ['ProtectControlGroups', 'yes'],
      ['RestrictSUIDSGID', 'yes'],
      ['RestrictRealtime', 'yes'],
      ['LockPersonality', 'yes'],
      ['RestrictAddressFamilies', 'AF_UNIX AF_INET AF_INET6'],
      ['CapabilityBoundingSet', lowPort ? 'CAP_NET_BIND_SERVICE' : ''],
      ...(lowPort ? [['AmbientCapabilities', 'CAP_NET_BIND_SERVICE'] as const] : []),
    ],
    Install: [['WantedBy', 'multi-user.target']],
  };
}
