/**
 * Each simulated host's sandbox: the folder that stands for one machine, so that N agents can share
 * this one. Layout under the simulation's data dir:
 *
 *   hosts/sim-K/agent.yml   the agent's configuration
 *   hosts/sim-K/agent.log   the agent's log (pino JSON lines)
 *   hosts/sim-K/root/       its root_dir: deployment folders, scripts.log, markers (AWS agent layout)
 *   hosts/sim-K/files/      its destination_root: AppSpec destination /var/www lands in files/var/www
 *   hosts/sim-K/root/fleetdeploy-agent/tls/   its enrolled key (0600), certificate and the coordinator's CA
 */
import fs from 'node:fs';
import path from 'node:path';

/** SimHost is one simulated host: its instance name, tags and sandbox paths. */
export interface SimHost {
  readonly name: string;
  readonly tags: readonly { readonly Key: string; readonly Value: string }[];
  readonly dir: string;
  readonly rootDir: string;
  readonly filesDir: string;
  readonly configFile: string;
  readonly logFile: string;
  /** Where `fleetdeploy-agent enrol` stores its key and certificate (the agent's default under root_dir). */
  readonly tlsDir: string;
}

/** SIM_TAG_ENV is the tag every simulated host carries; a deployment group targets the fleet with it. */
export const SIM_TAG_ENV = { Key: 'env', Value: 'sim' } as const;

/**
 * simHosts names the hosts sim-1..sim-N and gives them their tags: role=web for odd K, role=api for
 * even K, and env=sim for all. `simHosts('/d', 2)` is sim-1 (web) and sim-2 (api) under /d/hosts.
 */
export function simHosts(dataDir: string, count: number): SimHost[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `sim-${i + 1}`;
    const dir = path.join(dataDir, 'hosts', name);
    return Object.freeze({
      name,
      tags: Object.freeze([{ Key: 'role', Value: i % 2 === 0 ? 'web' : 'api' }, { ...SIM_TAG_ENV }]),
      dir,
      rootDir: path.join(dir, 'root'),
      filesDir: path.join(dir, 'files'),
      configFile: path.join(dir, 'agent.yml'),
      logFile: path.join(dir, 'agent.log'),
      tlsDir: path.join(dir, 'root', 'fleetdeploy-agent', 'tls'),
    });
  });
}

/**
 * agentConfigText is a host's agent.yml: its own root_dir and destination_root, the coordinator to
 * dial and the instance it speaks for. Paths are JSON-quoted, which YAML reads as the same strings.
 */
export function agentConfigText(host: SimHost, coordinator: string): string {
  return [
    `# Written by \`fleetdeploy simulate\` for the simulated host ${host.name}.`,
    `root_dir: ${JSON.stringify(host.rootDir)}`,
    `destination_root: ${JSON.stringify(host.filesDir)}`,
    `coordinator: ${JSON.stringify(coordinator)}`,
    `instance_name: ${JSON.stringify(host.name)}`,
    'max_revisions: 5',
    'shutdown_wait_seconds: 5',
    '',
  ].join('\n');
}

/** writeSandbox creates a host's folders and writes its agent.yml (again, on a reused data dir). */
export function writeSandbox(host: SimHost, coordinator: string): void {
  fs.mkdirSync(host.rootDir, { recursive: true });
  fs.mkdirSync(host.filesDir, { recursive: true });
  fs.writeFileSync(host.configFile, agentConfigText(host, coordinator));
}
