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

  /** While a transaction runs: each change's command id and its record before it, so that a refused run can be put back. */
  private journal: Array<{ id: string; previous: CommandRecord | undefined }> | undefined;

  get(commandId: string): CommandRecord | undefined {
    return this.byId.get(commandId);
  }

  /** set adds a command or replaces the record of one with the same id. */
  set(command: CommandRecord): void {
    this.journal?.push({ id: command.commandId, previous: this.byId.get(command.commandId) });
    this.put(command);
  }

  delete(commandId: string): void {
    if (this.journal !== undefined && this.byId.has(commandId)) this.journal.push({ id: commandId, previous: this.byId.get(commandId) });
    this.remove(commandId);
  }

  /**
   * mark starts recording changes (a transaction begins), or tells how far a running record goes;
   * undoTo(mark) puts back every change made since, without reading the store again.
   */
  mark(): number {
    this.journal ??= [];
    return this.journal.length;
  }

  /** undoTo puts back the changes made since `mark`; a command `keep` refuses (one not driven here any more) is not put back. */
  undoTo(mark: number, keep: (command: CommandRecord) => boolean): void {
    const journal = this.journal;
    if (journal === undefined) return;
    while (journal.length > mark) {
      const { id, previous } = journal.pop()!;
      if (previous !== undefined && keep(previous)) this.put(previous);
      else this.remove(id);
    }
  }

  /** endRecord stops recording: the transaction has ended, committed or not. */
  endRecord(): void {
    this.journal = undefined;
  }

  private put(command: CommandRecord): void {
    const previous = this.byId.get(command.commandId);
    if (previous !== undefined && previous.instanceName !== command.instanceName) this.remove(command.commandId);
    this.byId.set(command.commandId, command);
    let mine = this.byInstance.get(command.instanceName);
    if (mine === undefined) this.byInstance.set(command.instanceName, (mine = new Map()));
    mine.set(command.commandId, command);
  }

  private remove(commandId: string): void {
    const command = this.byId.get(commandId);
    if (command === undefined) return;
    this.byId.delete(commandId);
    const mine = this.byInstance.get(command.instanceName);
    mine?.delete(commandId);
    if (mine?.size === 0) this.byInstance.delete(command.instanceName);
  }

  clear(): void {
    this.journal = undefined;
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
