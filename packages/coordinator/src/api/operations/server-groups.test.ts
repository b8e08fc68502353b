import { describe, expect, it } from 'vitest';
import { checkServerRouting, serverGroupStyle } from './server-groups.js';

const BG = { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' };
const LB = { targetGroupInfoList: [{ name: 'web' }] };

function refusal(extra: Record<string, unknown>): { type: string; message: string } | undefined {
  try {
    serverGroupStyle(extra);
    return undefined;
  } catch (err) {
    return { type: (err as { type: string }).type, message: (err as Error).message };
  }
}

describe('serverGroupStyle', () => {
  it('is IN_PLACE by default, and blue/green with the backend, waits and termination given', () => {
    expect(serverGroupStyle({})).toEqual({ type: 'IN_PLACE' });
    expect(serverGroupStyle({ deploymentStyle: BG, loadBalancerInfo: LB })).toEqual({ type: 'BLUE_GREEN', backend: 'web', terminate: { action: 'KEEP_ALIVE', waitMinutes: 0 } });
    expect(
      serverGroupStyle({
        deploymentStyle: BG,
        loadBalancerInfo: { elbInfoList: [{ name: 'be_app' }] },
        blueGreenDeploymentConfiguration: {
          deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: 30 },
          terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 },
          greenFleetProvisioningOption: { action: 'DISCOVER_EXISTING' },
        },
      }),
    ).toEqual({ type: 'BLUE_GREEN', backend: 'be_app', readyWaitMinutes: 30, terminate: { action: 'TERMINATE', waitMinutes: 5 } });
  });

  it.each([
    [{ deploymentStyle: { deploymentType: 'IN_PLACE', deploymentOption: 'WITH_TRAFFIC_CONTROL' } }, 'InvalidDeploymentStyleException', 'an IN_PLACE Server group cannot use WITH_TRAFFIC_CONTROL'],
    [{ deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITHOUT_TRAFFIC_CONTROL' }, loadBalancerInfo: LB }, 'InvalidDeploymentStyleException', 'needs deploymentOption WITH_TRAFFIC_CONTROL'],
    [{ deploymentStyle: BG }, 'InvalidLoadBalancerInfoException', 'naming exactly one HAProxy backend'],
    [{ deploymentStyle: BG, loadBalancerInfo: { targetGroupInfoList: [{ name: 'a' }], elbInfoList: [{ name: 'b' }] } }, 'InvalidLoadBalancerInfoException', 'got 2'],
    [{ deploymentStyle: BG, loadBalancerInfo: { targetGroupInfoList: [{ name: 'web app' }] } }, 'InvalidLoadBalancerInfoException', 'loadBalancerInfo.targetGroupInfoList[0].name must be an HAProxy backend name'],
    [{ deploymentStyle: BG, loadBalancerInfo: LB, blueGreenDeploymentConfiguration: { greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' } } }, 'InvalidBlueGreenDeploymentConfigurationException', 'greenFleetProvisioningOption.action must be DISCOVER_EXISTING'],
    [{ deploymentStyle: BG, loadBalancerInfo: LB, blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 2881 } } }, 'InvalidBlueGreenDeploymentConfigurationException', 'terminationWaitTimeInMinutes must be a whole number of minutes from 0 to 2880'],
    [{ deploymentStyle: BG, loadBalancerInfo: LB, blueGreenDeploymentConfiguration: { deploymentReadyOption: { actionOnTimeout: 'WAIT' } } }, 'InvalidBlueGreenDeploymentConfigurationException', 'actionOnTimeout must be CONTINUE_DEPLOYMENT or STOP_DEPLOYMENT'],
  ])('refuses %j', (extra, type, message) => {
    const r = refusal(extra);
    expect(r?.type).toBe(type);
    expect(r?.message).toContain(message);
  });
});

describe('checkServerRouting', () => {
  it('refuses traffic routing for an in-place group, which has no load balancer', () => {
    expect(() => checkServerRouting({ type: 'IN_PLACE' }, 'Linear', { type: 'AllAtOnce' })).toThrow(/Linear shifts traffic \(trafficRoutingConfig\), but this in-place group has no load balancer/);
    expect(() => checkServerRouting({ type: 'IN_PLACE' }, 'CodeDeployDefault.OneAtATime', undefined)).not.toThrow();
    expect(() => checkServerRouting({ type: 'BLUE_GREEN', backend: 'web', terminate: { action: 'KEEP_ALIVE', waitMinutes: 0 } }, 'Linear', { type: 'AllAtOnce' })).not.toThrow();
  });
});
