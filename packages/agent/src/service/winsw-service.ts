/**
 * The agent as a Windows service through WinSW (github.com/winsw/winsw), a maintained wrapper that
 * runs any program as a service from one XML file: `fleetdeploy-agent install-service --platform
 * windows --dry-run` prints that file (pure, below), for `fleetdeploy-agent-service.xml` next to
 * WinSW's executable renamed `fleetdeploy-agent-service.exe`, then `fleetdeploy-agent-service.exe install`.
 *
 * The service starts automatically (delayed, after the network), restarts after a failure, and on
 * stop gets Ctrl+C (Node turns it into SIGINT, a graceful stop) and shutdown_wait_seconds + 30 s
 * before WinSW ends it. WinSW's own log of the agent's standard error goes to log_dir, rolled by size.
 */
import path from 'node:path';

/** WINDOWS_SERVICE_ID is the service's name in `sc query` and the Services console. */
export const WINDOWS_SERVICE_ID = 'fleetdeploy-agent';

/** Where a Node.js installed with its MSI installer lives, and the agent when installed globally by an administrator there. */
export const WINDOWS_DEFAULT_NODE = 'C:\\Program Files\\nodejs\\node.exe';
export const WINDOWS_DEFAULT_SCRIPT = 'C:\\Program Files\\nodejs\\node_modules\\@fleetdeploy\\agent\\bin\\fleetdeploy-agent.js';

/** WinswInput is what the service definition needs. */
export interface WinswInput {
  node: string;
  script: string;
  configFile: string;
  logDir: string;
  shutdownWaitSeconds: number;
}

/** winswXml renders the WinSW service definition. */
export function winswXml(o: WinswInput): string {
  for (const [what, p] of [['node', o.node], ['script', o.script], ['configuration', o.configFile], ['log folder', o.logDir]] as const) {
    if (!path.win32.isAbsolute(p) || p.includes('"')) throw new Error(`the Windows service needs an absolute Windows path without quotes for the ${what}, got ${JSON.stringify(p)}`);
  }
  // The V8 flag is the one the bin's shebang gives on Linux (see packages/agent/bin): no shebang on Windows.
  const args = ['--max-semi-space-size=1', quoteArg(o.script), 'run', '--config', quoteArg(o.configFile)].join(' ');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    // An XML comment may not hold two hyphens in a row, so no flags are quoted in it.
    '<!-- Written by fleetdeploy-agent install-service for Windows. Check that the node and script paths are this host\'s. -->',
    '<service>',
    `  <id>${WINDOWS_SERVICE_ID}</id>`,
    '  <name>fleetdeploy agent</name>',
    '  <description>fleetdeploy agent: runs CodeDeploy-compatible deployments on this host</description>',
    `  <executable>${xmlText(o.node)}</executable>`,
    `  <arguments>${xmlText(args)}</arguments>`,
    '  <startmode>Automatic</startmode>',
    '  <delayedAutoStart>true</delayedAutoStart>',
    '  <onfailure action="restart" delay="5 sec"/>',
    '  <resetfailure>1 hour</resetfailure>',
    `  <stoptimeout>${o.shutdownWaitSeconds + 30} sec</stoptimeout>`,
    `  <logpath>${xmlText(o.logDir)}</logpath>`,
    '  <log mode="roll-by-size">',
    '    <sizeThreshold>10240</sizeThreshold>',
    '    <keepFiles>8</keepFiles>',
    '  </log>',
    '</service>',
    '',
  ].join('\n');
}

/** quoteArg puts a path in double quotes when Windows' command-line parsing would split it. */
function quoteArg(p: string): string {
  return /[\s]/.test(p) ? `"${p}"` : p;
}

/** xmlText escapes text for an XML element's content. */
function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
