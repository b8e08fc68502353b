import { describe, expect, it } from 'vitest';
import { enrolInstructions } from './instance.js';

const E = 'http://coordinator.example:7180';

describe('enrolInstructions', () => {
  it('joins the host the operator reached with the enrolment port, and quotes a config path with blanks', () => {
    const lines = enrolInstructions('web-01', { enrolmentToken: 'fde1.a.b.c', enrolmentPort: 7182 }, E, '/etc/fleet agent/agent.yml');
    expect(lines[1]).toBe("  fleetdeploy-agent enrol --coordinator coordinator.example:7182 --token fde1.a.b.c --config '/etc/fleet agent/agent.yml'");
    expect(lines[2]).toBe("  fleetdeploy-agent run --config '/etc/fleet agent/agent.yml'");
    expect(enrolInstructions('v6', { enrolmentToken: 't', enrolmentPort: 9 }, 'http://[::1]:7180', '/a.yml')[1]).toContain('--coordinator [::1]:9 ');
  });

  it('an answer without a token or port says the instance is registered and how to enrol by hand', () => {
    expect(() => enrolInstructions('web-01', {}, E, '/a.yml')).toThrow(
      `web-01 is registered, but ${E} answered without an enrolment token: make a token on the coordinator's host with fleetdeploy-coordinator enrol-token --instance web-01 --data-dir DATA_DIR, and enrol with fleetdeploy-agent enrol --coordinator HOST:ENROL_PORT (its enrol= address)`,
    );
    expect(() => enrolInstructions('web-01', { enrolmentToken: 'fde1.a.b.c' }, E, '/a.yml')).toThrow(/answered without an enrolment port: /);
  });
});
