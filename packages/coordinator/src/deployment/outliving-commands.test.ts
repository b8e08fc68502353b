import { describe, expect, it } from 'vitest';
import { createOutlivingCommands, stillRunningMessage } from './outliving-commands.js';

const command = (commandId: string, instanceName = 'web-2') => ({ commandId, instanceName, deploymentId: 'd-AAAAAAAAA', lifecycleEvent: 'AfterInstall', endedAt: Date.UTC(2026, 11, 7, 6, 40) });

describe('outliving commands', () => {
  it('keeps a command until its result comes, per instance', () => {
    const o = createOutlivingCommands();
    o.add(command('c-1'));
    o.add(command('c-2', 'web-3'));
    expect(o.on('web-2').map((c) => c.commandId)).toEqual(['c-1']);
    o.ended('c-1');
    expect(o.on('web-2')).toEqual([]);
    expect(o.has('c-2')).toBe(true);
  });

  it("keeps after an agent's hello only the commands it lists as running", () => {
    const o = createOutlivingCommands();
    o.add(command('c-1'));
    o.add(command('c-2'));
    o.add(command('c-3', 'web-3'));
    expect(o.agentHello('web-2', ['c-2', 'c-9']).map((c) => c.commandId)).toEqual(['c-2']);
    expect(o.has('c-1')).toBe(false);
    expect(o.has('c-3')).toBe(true); // another instance's hello says nothing of it
  });

  it('names the event, deployment, command and when the coordinator ended it', () => {
    expect(stillRunningMessage('web-2', [command('c-1')])).toBe(
      'cannot retry web-2 yet: its AfterInstall of d-AAAAAAAAA (command c-1), ended at the coordinator at 2026-12-07T06:40:00Z, still runs on its agent, which was asked to cancel it; retry once the agent reports it ended (skip and fail need not wait)',
    );
  });
});
