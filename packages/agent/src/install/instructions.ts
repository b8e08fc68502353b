/**
 * Install instructions in the AWS agent's `<group-id>-install.json` vocabulary. An Install is planned as
 * a list of these first and only then applied, so every conflict is known before a file changes.
 */

/** SelinuxInstructionContext is how install.json spells a context (the AWS agent's field names). */
export interface SelinuxInstructionContext {
  user: string | null;
  role: null;
  type: string;
  range: string | null;
}

/** Instruction is one step of an Install, applied in list order. */
export type Instruction =
  | { type: 'mkdir'; directory: string }
  | { type: 'copy'; source: string; destination: string }
  | { type: 'chmod'; mode: string; file: string }
  | { type: 'setfacl'; acl: string[]; file: string }
  | { type: 'semanage'; context: SelinuxInstructionContext; file: string }
  | { type: 'chown'; owner: string | null; group: string | null; file: string };

/** installJson renders instructions as the AWS agent writes them: `{"instructions":[...]}`. */
export function installJson(instructions: readonly Instruction[]): string {
  return JSON.stringify({ instructions });
}
