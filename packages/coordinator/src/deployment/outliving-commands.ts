/**
 * Commands that outlive their end at the coordinator: a lifecycle event the coordinator failed (it
 * timed out, or its agent stayed away past the grace) while the agent had started it. The agent is
 * asked to cancel such a command, but its scripts may run on for a while (a script that ignores
 * SIGTERM runs until the agent's SIGKILL), so a guided-failure retry of the instance must wait
 * until the agent says the command ended: its result arrives, or its hello no longer lists it.
 * Kept in memory: a restarted coordinator learns of them again from each agent's hello.
 */

/** OutlivingCommand is one command the coordinator has ended that may still run on its agent. */
export interface OutlivingCommand {
  commandId: string;
  instanceName: string;
  deploymentId: string;
  lifecycleEvent: string;
  /** When the coordinator ended it (epoch ms). */
  endedAt: number;
}

/** OutlivingCommands tracks them by command id. */
export interface OutlivingCommands {
  add(command: OutlivingCommand): void;
  /** ended forgets a command whose result the agent sent. */
  ended(commandId: string): void;
  /** agentHello keeps of `instanceName`'s commands only those its hello lists as running, and returns them. */
  agentHello(instanceName: string, inFlight: readonly string[]): OutlivingCommand[];
  has(commandId: string): boolean;
  /** on lists the commands that may still run on an instance. */
  on(instanceName: string): OutlivingCommand[];
}

export function createOutlivingCommands(): OutlivingCommands {
  const byId = new Map<string, OutlivingCommand>();
  const on = (instanceName: string): OutlivingCommand[] => [...byId.values()].filter((c) => c.instanceName === instanceName);
  return {
    add: (command) => void byId.set(command.commandId, command),
    ended: (commandId) => void byId.delete(commandId),
    agentHello(instanceName, inFlight) {
      const running = new Set(inFlight);
      for (const c of on(instanceName)) if (!running.has(c.commandId)) byId.delete(c.commandId);
      return on(instanceName);
    },
    has: (commandId) => byId.has(commandId),
    on,
  };
}

/**
 * stillRunningMessage words a refused retry, e.g. `cannot retry web-2 yet: its AfterInstall of
 * d-ABC timed out at the coordinator at 2026-12-07T06:40:00Z but still runs on its agent, which was
 * asked to cancel it; retry once the agent reports it ended (skip and fail need not wait)`.
 */
export function stillRunningMessage(instanceName: string, commands: readonly OutlivingCommand[]): string {
  const what = commands.map((c) => `its ${c.lifecycleEvent} of ${c.deploymentId} (command ${c.commandId}), ended at the coordinator at ${new Date(c.endedAt).toISOString().replace('.000Z', 'Z')},`).join(' and ');
  return `cannot retry ${instanceName} yet: ${what} still runs on its agent, which was asked to cancel it; retry once the agent reports it ended (skip and fail need not wait)`;
}
