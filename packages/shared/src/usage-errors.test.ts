import { describe, expect, it } from 'vitest';
import { usageErrorLine } from './usage-errors.js';

describe('usageErrorLine', () => {
  it('keeps commander\'s suggestion on the one line and names the command\'s help', () => {
    expect(usageErrorLine("error: unknown option '--prot'\n(Did you mean --port?)\n", 'fleetdeploy-coordinator serve')).toBe(
      "ERROR: unknown option '--prot'; did you mean --port? (see fleetdeploy-coordinator serve --help)\n",
    );
    expect(usageErrorLine("error: unknown command 'bogus'\n", 'fleetdeploy-agent')).toBe("ERROR: unknown command 'bogus' (see fleetdeploy-agent --help)\n");
  });
});
