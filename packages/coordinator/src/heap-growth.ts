/**
 * How far V8 lets the coordinator's heap grow between full garbage collections. By default the old
 * generation may reach about 2.7 times what survived the last full collection before the next one
 * (bench-fleet at 10,000 agents: 170 MB live, 445 MB of heap before the collection, 821 MB RSS). The
 * coordinator lives long and holds a fleet's sessions; what it allocates per report dies soon after.
 * A factor of 2 keeps the peak near twice what is live for a few more full collections, which run
 * mostly on V8's helper threads. An operator's own --heap-growing-percent (node's arguments or
 * NODE_OPTIONS) wins.
 */
import v8 from 'node:v8';

/** HEAP_GROWING_PERCENT makes V8's growing factor 1 + 100/100 = 2. */
export const HEAP_GROWING_PERCENT = 100;

const FLAG = '--heap-growing-percent';

/** operatorChoseGrowth says whether node's arguments or NODE_OPTIONS already set the flag. */
export function operatorChoseGrowth(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  // V8 takes its flags with dashes or underscores alike.
  const mentions = (arg: string) => arg.split('=')[0]!.replace(/^--/, '').replaceAll('_', '-') === FLAG.slice(2);
  return execArgv.some(mentions) || (nodeOptions ?? '').split(/\s+/).some(mentions);
}

/** limitHeapGrowth sets the coordinator's growing factor unless the operator chose one; true when it did. */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): boolean {
  if (operatorChoseGrowth(execArgv, nodeOptions)) return false;
  // V8 reads this flag each time it sizes the heap after a full collection, so setting it now takes effect.
  v8.setFlagsFromString(`${FLAG}=${HEAP_GROWING_PERCENT}`);
  return true;
}
