import { describe, expect, it } from 'vitest';
import { OpenCommands } from './open-commands.js';
import type { CommandRecord } from '../store/records.js';

const command = (commandId: string, instanceName: string, state: CommandRecord['state'] = 'pending'): CommandRecord => ({
  commandId,
  deploymentId: 'd-1',
  instanceName,
  lifecycleEvent: 'Install',
  state,
  createdAt: 0,
  deadlineAt: 1,
});

describe('OpenCommands', () => {
  it('finds an instance’s commands, in the order they were added, and forgets deleted ones', () => {
    const open = new OpenCommands();
    open.set(command('c1', 'a'));
    open.set(command('c2', 'b'));
    open.set(command('c3', 'a'));
    expect(open.ofInstance('a').map((c) => c.commandId)).toEqual(['c1', 'c3']);
    open.delete('c1');
    expect(open.ofInstance('a').map((c) => c.commandId)).toEqual(['c3']);
    expect(open.get('c1')).toBeUndefined();
    expect([...open.values()].map((c) => c.commandId)).toEqual(['c2', 'c3']);
    open.delete('c3');
    expect(open.ofInstance('a')).toEqual([]);
  });

  it('replaces a record by id, keeping one entry for the instance', () => {
    const open = new OpenCommands();
    open.set(command('c1', 'a'));
    open.set(command('c1', 'a', 'acked'));
    expect(open.ofInstance('a').map((c) => c.state)).toEqual(['acked']);
    expect(open.get('c1')?.state).toBe('acked');
  });

  it('moves a command whose instance changed and empties everything on clear', () => {
    const open = new OpenCommands();
    open.set(command('c1', 'a'));
    open.set(command('c1', 'b'));
    expect(open.ofInstance('a')).toEqual([]);
    expect(open.ofInstance('b').map((c) => c.commandId)).toEqual(['c1']);
    open.clear();
    expect(open.ofInstance('b')).toEqual([]);
    expect([...open.values()]).toEqual([]);
  });

  it('puts back the changes made since a mark, in reverse, leaving out what the filter refuses; none once the record ends', () => {
    const open = new OpenCommands();
    open.set(command('c1', 'a'));
    open.set(command('c2', 'b'));
    const start = open.mark();
    open.delete('c1');
    open.set(command('c2', 'b', 'acked'));
    const inner = open.mark();
    open.set(command('c3', 'a'));
    open.undoTo(inner, () => true);
    expect(open.get('c3')).toBeUndefined();
    expect(open.get('c2')?.state).toBe('acked');
    open.undoTo(start, (c) => c.commandId !== 'c1');
    expect(open.get('c2')?.state).toBe('pending');
    expect(open.get('c1')).toBeUndefined(); // refused by the filter: not put back
    open.delete('c2');
    open.endRecord();
    open.undoTo(start, () => true);
    expect(open.get('c2')).toBeUndefined();
    expect([...open.values()]).toEqual([]);
  });
});
