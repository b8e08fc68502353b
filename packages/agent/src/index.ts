/**
 * @fleetdeploy/agent as a library: run agent daemons in-process (a fleet simulation runs hundreds in
 * one process, each with its own root_dir) and read agent configuration files.
 */
export { startAgentDaemon, reconnectBackoff, loadGrpcRuntime } from './daemon/agent-daemon.js';
export type { AgentDaemon, AgentDaemonOptions, GrpcRuntime } from './daemon/agent-daemon.js';
export { parseAgentConfig, defaultAgentConfig, daemonStateDir, requireCoordinator } from './config/agent-config.js';
export type { AgentConfig } from './config/agent-config.js';
export { createLogger, silentLogger } from './log.js';
export type { Logger } from './log.js';
