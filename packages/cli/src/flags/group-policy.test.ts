import { describe, expect, it } from 'vitest';
import { parseAutoRollback, parseComputePlatform, parseTrigger } from './group-policy.js';

const TOPIC = 'arn:aws:sns:us-east-1:000000000000:deploys';

describe('parseAutoRollback', () => {
  it('reads comma lists from one or more flags, ignoring case and repeats', () => {
    expect(parseAutoRollback(['DEPLOYMENT_FAILURE,deployment_stop_on_request', 'DEPLOYMENT_FAILURE'])).toEqual({ enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] });
  });

  it('names an unknown event and the allowed ones', () => {
    expect(() => parseAutoRollback(['DEPLOYMENT_FAILURE,FAILURE'])).toThrow('--auto-rollback: "FAILURE" is not one of DEPLOYMENT_FAILURE, DEPLOYMENT_STOP_ON_ALARM, DEPLOYMENT_STOP_ON_REQUEST');
    expect(() => parseAutoRollback([''])).toThrow('--auto-rollback: "" is not one of');
  });
});

describe('parseTrigger', () => {
  it('reads name, target and a list of events that continues past commas', () => {
    expect(parseTrigger(`name=ops,target=${TOPIC},events=DeploymentFailure,deploymentstop`)).toEqual({
      triggerName: 'ops',
      triggerTargetArn: TOPIC,
      triggerEvents: ['DeploymentFailure', 'DeploymentStop'],
    });
    expect(parseTrigger(`events=InstanceFailure,target=${TOPIC},name=x`).triggerEvents).toEqual(['InstanceFailure']);
    expect(parseTrigger('name=chat,target=https://hooks.example.com/cd?team=web,events=DeploymentSuccess').triggerTargetArn).toBe('https://hooks.example.com/cd?team=web');
  });

  it('says which part is wrong', () => {
    expect(() => parseTrigger(`target=${TOPIC},events=DeploymentStart`)).toThrow(/: name= is missing/);
    expect(() => parseTrigger('name=ops,events=DeploymentStart')).toThrow(/: target= is missing/);
    expect(() => parseTrigger('name=ops,target=ops-topic,events=DeploymentStart')).toThrow(/target "ops-topic" is neither an SNS topic ARN \(arn:aws:sns:REGION:ACCOUNT:TOPIC\) nor an http:\/\/ or https:\/\/ webhook URL/);
    expect(() => parseTrigger('name=ops,target=ftp://x.example/y,events=DeploymentStart')).toThrow(/target "ftp:\/\/x.example\/y" is neither/);
    expect(() => parseTrigger(`name=ops,target=${TOPIC}`)).toThrow(/: events= is missing: name at least one of DeploymentFailure, DeploymentReady/);
    expect(() => parseTrigger(`name=ops,target=${TOPIC},events=Boom`)).toThrow(/"Boom" is not a trigger event; use DeploymentFailure/);
    expect(() => parseTrigger(`name=ops,topic=${TOPIC}`)).toThrow(/unknown key "topic" \(keys: name, target, events\)/);
    expect(() => parseTrigger('name=a,name=b')).toThrow(/name is given twice/);
    expect(() => parseTrigger(`ops,target=${TOPIC}`)).toThrow(/"ops" is not KEY=VALUE/);
  });
});

describe('parseComputePlatform', () => {
  it('takes the three platforms in any case and refuses others', () => {
    expect(parseComputePlatform('server')).toBe('Server');
    expect(parseComputePlatform('ECS')).toBe('ECS');
    expect(() => parseComputePlatform('EC2')).toThrow('--compute-platform "EC2": use ECS, Lambda, Server');
  });
});
