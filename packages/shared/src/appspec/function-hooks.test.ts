import { describe, it, expect } from 'vitest';
import { AppSpecError, parseAppSpec, type AppSpecIssue } from './parse.js';

const LAMBDA = { platform: 'linux', computePlatform: 'Lambda' } as const;
const ECS = { platform: 'linux', computePlatform: 'ECS' } as const;

function issuesOf(text: string, opts: typeof LAMBDA | typeof ECS): AppSpecIssue[] {
  try {
    parseAppSpec(text, opts);
  } catch (err) {
    if (err instanceof AppSpecError) return err.issues;
    throw err;
  }
  throw new Error('expected an AppSpecError');
}

const LAMBDA_DOC = `version: 0.0
Resources:
  - myLambdaFunction:
      Type: AWS::Lambda::Function
      Properties:
        Name: "myLambdaFunction"
        Alias: "myLambdaFunctionAlias"
        CurrentVersion: "1"
        TargetVersion: "2"
Hooks:
  - BeforeAllowTraffic: "LambdaFunctionToValidateBeforeTrafficShift"
  - AfterAllowTraffic: "LambdaFunctionToValidateAfterTrafficShift"
`;

/** A Lambda AppSpec whose single resource has the given Properties lines. */
function lambdaWith(properties: string, extra = ''): string {
  return `version: 0.0\nresources:\n  - fn:\n      type: AWS::Lambda::Function\n      properties:\n${properties}${extra}`;
}

const GOOD_PROPS = '        name: fn\n        alias: live\n        currentversion: 1\n        targetversion: 2\n';

describe('Lambda AppSpec', () => {
  it('parses the documented example', () => {
    expect(parseAppSpec(LAMBDA_DOC, LAMBDA)).toEqual({
      kind: 'lambda',
      version: 0,
      resources: [
        { logicalName: 'myLambdaFunction', name: 'myLambdaFunction', alias: 'myLambdaFunctionAlias', currentVersion: '1', targetVersion: '2' },
      ],
      hooks: [
        { event: 'BeforeAllowTraffic', functionName: 'LambdaFunctionToValidateBeforeTrafficShift' },
        { event: 'AfterAllowTraffic', functionName: 'LambdaFunctionToValidateAfterTrafficShift' },
      ],
    });
  });

  it('accepts lower-case keys and integer versions, without hooks', () => {
    expect(parseAppSpec(lambdaWith(GOOD_PROPS), LAMBDA)).toEqual({
      kind: 'lambda',
      version: 0,
      resources: [{ logicalName: 'fn', name: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2' }],
      hooks: [],
    });
  });

  it('accepts the JSON form', () => {
    const json = JSON.stringify({
      version: 0.0,
      Resources: [{ f: { Type: 'AWS::Lambda::Function', Properties: { Name: 'f', Alias: 'a', CurrentVersion: '3', TargetVersion: '4' } } }],
    });
    expect(parseAppSpec(json, LAMBDA).resources[0]?.targetVersion).toBe('4');
  });

  it.each([
    ['version: 0.0\n', 'Resources', 'missing (a list with the Lambda function to deploy is required)'],
    ['version: 0.0\nresources: []\n', 'resources', 'empty (a list with the Lambda function to deploy is required)'],
    ['version: 0.0\nResources: {fn: {}}\n', 'Resources', 'got a map (a list with the Lambda function to deploy is required)'],
    ['version: 0.0\nResources:\n  - a: {}\n    b: {}\n', 'Resources[0]', 'must be a single-key map of a logical name to a resource (got a map with 2 keys)'],
    ['version: 0.0\nResources:\n  - fn\n', 'Resources[0]', 'must be a single-key map of a logical name to a resource (got a string)'],
    ['version: 0.0\nResources:\n  - fn:\n', 'Resources[0].fn', 'missing (a map with Type and Properties)'],
  ])('rejects bad resources: %j', (text, path, problem) => {
    expect(issuesOf(text, LAMBDA)).toEqual([{ path, problem }]);
  });

  it('reports a wrong or missing Type and missing Properties', () => {
    expect(issuesOf('version: 0.0\nResources:\n  - fn:\n      Type: AWS::ECS::Service\n', LAMBDA)).toEqual([
      { path: 'Resources[0].fn.Type', problem: 'unsupported resource type (AWS::ECS::Service); must be AWS::Lambda::Function' },
      { path: 'Resources[0].fn.Properties', problem: 'missing (a map with Name, Alias, CurrentVersion and TargetVersion)' },
    ]);
    expect(issuesOf('version: 0.0\nResources:\n  - fn:\n      Properties: []\n', LAMBDA)).toEqual([
      { path: 'Resources[0].fn.Type', problem: 'missing (must be AWS::Lambda::Function)' },
      { path: 'Resources[0].fn.Properties', problem: 'must be a map with Name, Alias, CurrentVersion and TargetVersion (got a list)' },
    ]);
  });

  it('requires all four properties', () => {
    expect(issuesOf(lambdaWith('        other: x\n'), LAMBDA)).toEqual([
      { path: 'resources[0].fn.properties.Name', problem: 'missing (the Lambda function name)' },
      { path: 'resources[0].fn.properties.Alias', problem: 'missing (the alias whose traffic shifts)' },
      { path: 'resources[0].fn.properties.CurrentVersion', problem: 'missing (a published function version such as "2")' },
      { path: 'resources[0].fn.properties.TargetVersion', problem: 'missing (a published function version such as "2")' },
    ]);
  });

  it('rejects empty names and versions that are not positive whole numbers', () => {
    expect(issuesOf(lambdaWith('        name: ""\n        alias: [a]\n        currentversion: "0"\n        targetversion: $LATEST\n'), LAMBDA)).toEqual([
      { path: 'resources[0].fn.properties.name', problem: 'must be the Lambda function name (got an empty string)' },
      { path: 'resources[0].fn.properties.alias', problem: 'must be the alias whose traffic shifts (got a list)' },
      { path: 'resources[0].fn.properties.currentversion', problem: 'invalid function version (0); must be a positive whole number such as "2"' },
      { path: 'resources[0].fn.properties.targetversion', problem: 'invalid function version ($LATEST); must be a positive whole number such as "2"' },
    ]);
  });

  it('reports a key given in two spellings', () => {
    expect(issuesOf(lambdaWith(GOOD_PROPS, 'Hooks: []\nhooks: []\n'), LAMBDA)).toEqual([{ path: 'Hooks', problem: 'given more than once (Hooks, hooks)' }]);
  });

  it.each([
    ['Hooks: {BeforeAllowTraffic: f}\n', 'Hooks', 'must be a list of single-key maps such as "- BeforeAllowTraffic: MyValidationFunction" (got a map)'],
    ['Hooks:\n  - BeforeInstall: f\n', 'Hooks[0].BeforeInstall', 'not a lifecycle event of Lambda deployments; use one of BeforeAllowTraffic, AfterAllowTraffic'],
    ['Hooks:\n  - OnFailure: f\n', 'Hooks[0].OnFailure', 'not a lifecycle event of Lambda deployments; use one of BeforeAllowTraffic, AfterAllowTraffic (OnFailure is a Server AppSpec hook: the agent runs it on an instance after an event fails there)'],
    ['Hooks:\n  - BeforeAllowTraffic: f\n  - BeforeAllowTraffic: g\n', 'Hooks[1].BeforeAllowTraffic', 'given more than once (each event runs one function)'],
    ['Hooks:\n  - BeforeAllowTraffic:\n', 'Hooks[0].BeforeAllowTraffic', 'missing (the name or ARN of a Lambda function)'],
    ['Hooks:\n  - BeforeAllowTraffic: [f]\n', 'Hooks[0].BeforeAllowTraffic', 'must be the name or ARN of a Lambda function (got a list)'],
    ['Hooks:\n  - {BeforeAllowTraffic: f, AfterAllowTraffic: g}\n', 'Hooks[0]', 'must be a single-key map of a lifecycle event to a Lambda function name (got a map with 2 keys)'],
  ])('rejects bad hooks: %j', (hooks, path, problem) => {
    expect(issuesOf(lambdaWith(GOOD_PROPS, hooks), LAMBDA)).toEqual([{ path, problem }]);
  });

  it('an empty Lambda AppSpec is empty', () => {
    expect(issuesOf('', LAMBDA)).toEqual([{ path: '(document)', problem: 'application specification file was empty' }]);
  });
});

const ECS_DOC = `version: 0.0
Resources:
  - TargetService:
      Type: AWS::ECS::Service
      Properties:
        TaskDefinition: "arn:aws:ecs:us-east-1:111222333444:task-definition/my-task-definition-family-name:1"
        LoadBalancerInfo:
          ContainerName: "SampleApplicationName"
          ContainerPort: 80
        PlatformVersion: "LATEST"
        NetworkConfiguration:
          AwsvpcConfiguration:
            Subnets: ["subnet-1234abcd", "subnet-5678abcd"]
            SecurityGroups: ["sg-12345678"]
            AssignPublicIp: "ENABLED"
        CapacityProviderStrategy:
          - Base: 1
            CapacityProvider: "FARGATE_SPOT"
            Weight: 2
          - CapacityProvider: "FARGATE"
            Weight: 1
Hooks:
  - BeforeInstall: "LambdaFunctionToValidateBeforeInstall"
  - AfterInstall: "LambdaFunctionToValidateAfterInstall"
  - AfterAllowTestTraffic: "LambdaFunctionToValidateAfterTestTrafficStarts"
  - BeforeAllowTraffic: "LambdaFunctionToValidateBeforeAllowingProductionTraffic"
  - AfterAllowTraffic: "LambdaFunctionToValidateAfterAllowingProductionTraffic"
`;

/** An ECS AppSpec whose TargetService has the given Properties lines. */
function ecsWith(properties: string, extra = ''): string {
  return `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n${properties}${extra}`;
}

const TASK = '        TaskDefinition: arn:task\n';
const LB = '        LoadBalancerInfo:\n          ContainerName: web\n          ContainerPort: 8080\n';

describe('ECS AppSpec', () => {
  it('parses the documented example', () => {
    expect(parseAppSpec(ECS_DOC, ECS)).toEqual({
      kind: 'ecs',
      version: 0,
      taskDefinition: 'arn:aws:ecs:us-east-1:111222333444:task-definition/my-task-definition-family-name:1',
      containerName: 'SampleApplicationName',
      containerPort: 80,
      platformVersion: 'LATEST',
      networkConfiguration: { subnets: ['subnet-1234abcd', 'subnet-5678abcd'], securityGroups: ['sg-12345678'], assignPublicIp: 'ENABLED' },
      capacityProviderStrategy: [
        { capacityProvider: 'FARGATE_SPOT', base: 1, weight: 2 },
        { capacityProvider: 'FARGATE', weight: 1 },
      ],
      hooks: [
        { event: 'BeforeInstall', functionName: 'LambdaFunctionToValidateBeforeInstall' },
        { event: 'AfterInstall', functionName: 'LambdaFunctionToValidateAfterInstall' },
        { event: 'AfterAllowTestTraffic', functionName: 'LambdaFunctionToValidateAfterTestTrafficStarts' },
        { event: 'BeforeAllowTraffic', functionName: 'LambdaFunctionToValidateBeforeAllowingProductionTraffic' },
        { event: 'AfterAllowTraffic', functionName: 'LambdaFunctionToValidateAfterAllowingProductionTraffic' },
      ],
    });
  });

  it('parses a minimal AppSpec with lower-case keys and a port given as text', () => {
    const text = 'version: 0.0\nresources:\n  - targetservice:\n      type: AWS::ECS::Service\n      properties:\n        taskdefinition: td\n        loadbalancerinfo: {containername: web, containerport: "443"}\n';
    expect(parseAppSpec(text, ECS)).toEqual({ kind: 'ecs', version: 0, taskDefinition: 'td', containerName: 'web', containerPort: 443, hooks: [] });
  });

  it.each([
    ['version: 0.0\n', 'Resources', 'missing (a list with exactly one TargetService is required)'],
    ['version: 0.0\nResources:\n  - TargetService: {}\n  - TargetService: {}\n', 'Resources', 'got 2 entries (a list with exactly one TargetService is required)'],
    ['version: 0.0\nResources: {TargetService: {}}\n', 'Resources', 'got a map (a list with exactly one TargetService is required)'],
    ['version: 0.0\nResources:\n  - MyService: {}\n', 'Resources[0].MyService', 'unknown resource; the only ECS resource is TargetService'],
    ['version: 0.0\nResources:\n  - TargetService: service\n', 'Resources[0].TargetService', 'must be a map with Type and Properties (got a string)'],
    ['version: 0.0\nResources:\n  - []\n', 'Resources[0]', 'must be a single-key map of TargetService to the ECS service (got a list)'],
  ])('rejects bad resources: %j', (text, path, problem) => {
    expect(issuesOf(text, ECS)).toEqual([{ path, problem }]);
  });

  it('reports a wrong Type and missing Properties', () => {
    expect(issuesOf('version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::Lambda::Function\n', ECS)).toEqual([
      { path: 'Resources[0].TargetService.Type', problem: 'unsupported resource type (AWS::Lambda::Function); must be AWS::ECS::Service' },
      { path: 'Resources[0].TargetService.Properties', problem: 'missing (a map with TaskDefinition and LoadBalancerInfo)' },
    ]);
    expect(issuesOf('version: 0.0\nResources:\n  - TargetService:\n      Properties: {}\n', ECS)[0]).toEqual({
      path: 'Resources[0].TargetService.Type',
      problem: 'missing (must be AWS::ECS::Service)',
    });
  });

  it('requires the task definition and load balancer info', () => {
    const p = 'Resources[0].TargetService.Properties';
    expect(issuesOf(ecsWith('        PlatformVersion: ""\n'), ECS)).toEqual([
      { path: `${p}.TaskDefinition`, problem: 'missing (the task definition ARN)' },
      { path: `${p}.LoadBalancerInfo`, problem: 'missing (a map with ContainerName and ContainerPort)' },
      { path: `${p}.PlatformVersion`, problem: 'must be a Fargate platform version such as LATEST (got an empty string)' },
    ]);
    expect(issuesOf(ecsWith(`${TASK}        LoadBalancerInfo: {}\n`), ECS)).toEqual([
      { path: `${p}.LoadBalancerInfo.ContainerName`, problem: 'missing (the container that receives traffic)' },
      { path: `${p}.LoadBalancerInfo.ContainerPort`, problem: 'missing (the container port that receives traffic)' },
    ]);
  });

  it.each(['0', '65536', '80.5', 'http', '-1'])('rejects ContainerPort %s', (port) => {
    expect(issuesOf(ecsWith(`${TASK}        LoadBalancerInfo: {ContainerName: web, ContainerPort: ${port}}\n`), ECS)).toEqual([
      { path: 'Resources[0].TargetService.Properties.LoadBalancerInfo.ContainerPort', problem: `invalid port (${port}); must be a whole number from 1 to 65535` },
    ]);
  });

  it('validates the network configuration, all or none', () => {
    const p = 'Resources[0].TargetService.Properties.NetworkConfiguration';
    expect(issuesOf(ecsWith(`${TASK}${LB}        NetworkConfiguration: []\n`), ECS)).toEqual([
      { path: p, problem: 'must be a map with AwsvpcConfiguration (got a list)' },
    ]);
    expect(issuesOf(ecsWith(`${TASK}${LB}        NetworkConfiguration: {}\n`), ECS)).toEqual([
      { path: `${p}.AwsvpcConfiguration`, problem: 'missing (a map with Subnets, SecurityGroups and AssignPublicIp)' },
    ]);
    expect(issuesOf(ecsWith(`${TASK}${LB}        NetworkConfiguration:\n          AwsvpcConfiguration:\n            Subnets: []\n            SecurityGroups: [sg-1, ""]\n            AssignPublicIp: yes\n`), ECS)).toEqual([
      { path: `${p}.AwsvpcConfiguration.Subnets`, problem: 'empty (a list of subnet IDs is required)' },
      { path: `${p}.AwsvpcConfiguration.SecurityGroups[1]`, problem: 'must be a security group ID (got an empty string)' },
      { path: `${p}.AwsvpcConfiguration.AssignPublicIp`, problem: 'invalid value (yes); must be ENABLED or DISABLED' },
    ]);
    expect(issuesOf(ecsWith(`${TASK}${LB}        NetworkConfiguration:\n          AwsvpcConfiguration:\n            Subnets: [subnet-1]\n`), ECS)).toEqual([
      { path: `${p}.AwsvpcConfiguration.SecurityGroups`, problem: 'missing (a list of security group IDs is required)' },
      { path: `${p}.AwsvpcConfiguration.AssignPublicIp`, problem: 'missing; must be ENABLED or DISABLED' },
    ]);
  });

  it('validates the capacity provider strategy', () => {
    const p = 'Resources[0].TargetService.Properties.CapacityProviderStrategy';
    expect(issuesOf(ecsWith(`${TASK}${LB}        CapacityProviderStrategy: FARGATE\n`), ECS)).toEqual([
      { path: p, problem: 'must be a list of maps with CapacityProvider, Base and Weight (got a string)' },
    ]);
    expect(issuesOf(ecsWith(`${TASK}${LB}        CapacityProviderStrategy:\n          - FARGATE\n          - Base: -1\n            Weight: x\n`), ECS)).toEqual([
      { path: `${p}[0]`, problem: 'must be a map with CapacityProvider, Base and Weight (got a string)' },
      { path: `${p}[1].CapacityProvider`, problem: 'missing (a capacity provider name)' },
      { path: `${p}[1].Base`, problem: 'invalid value (-1); must be a whole number of 0 or more' },
      { path: `${p}[1].Weight`, problem: 'invalid value (x); must be a whole number of 0 or more' },
    ]);
  });

  it('accepts the five ECS hook events and rejects others', () => {
    expect(issuesOf(ecsWith(`${TASK}${LB}`, 'Hooks:\n  - ApplicationStart: f\n'), ECS)).toEqual([
      {
        path: 'Hooks[0].ApplicationStart',
        problem: 'not a lifecycle event of ECS deployments; use one of BeforeInstall, AfterInstall, AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic',
      },
    ]);
  });
});
