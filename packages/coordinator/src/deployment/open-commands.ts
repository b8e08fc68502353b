/**
 * OpenCommands is the engine's working copy of the store's open command rows, by command id and by
 * instance: an agent that connects or disconnects, or an instance being cancelled, looks at its own
 * few commands instead of every open command of the fleet (10,000 open at once with ten 1,000-instance
 * deployments, which made each of 10,000 connections O(fleet)).
 */
import type { CommandRecord } from '../store/records.js';

export class OpenCommands {
  private readonly byId = new Map<string, CommandRecord>();
  private readonly byInstance = new Map<string, Map<string, CommandRecord>>();

  get(commandId: string): CommandRecord | undefined {
    return this.byId.get(commandId);
  }

  /** set adds a command or replaces the record of one with the same id. */
  set(command: CommandRecord): void {
    const previous = this.byId.get(command.commandId);
    if (previous !== undefined && previous.instanceName !== command.instanceName) this.delete(command.commandId);
    this.byId.set(command.commandId, command);
    let mine = this.byInstance.get(command.instanceName);
    if (mine === undefined) this.byInstance.set(command.instanceName, (mine = new Map()));
    mine.set(command.commandId, command);
  }

  delete(commandId: string): void {
    const command = this.byId.get(commandId);
    if (command === undefined) return;
    this.byId.delete(commandId);
    const mine = this.byInstance.get(command.instanceName);
    mine?.delete(commandId);
    if (mine?.size === 0) this.byInstance.delete(command.instanceName);
  }

  clear(): void {
    this.byId.clear();
    this.byInstance.clear();
  }

  values(): IterableIterator<CommandRecord> {
    return this.byId.values();
  }

  /** ofDeployment lists the deployment's open commands (a scan: for a takeover or a lease lost, not per report). */
  ofDeployment(deploymentId: string): CommandRecord[] {
    return [...this.byId.values()].filter((c) => c.deploymentId === deploymentId);
  }

  /** ofInstance lists the instance's open commands, in the order they were first added (a copy). */
  ofInstance(instanceName: string): CommandRecord[] {
    return [...(this.byInstance.get(instanceName)?.values() ?? [])];
  }
}
