/**
 * The Lambda and ECS AppSpec shapes: `resources` naming what is deployed, and `hooks` as a list of
 * single-key maps from a lifecycle event to the Lambda function that validates it. Keys are matched
 * ignoring case because AWS's own examples use both `Resources`/`Properties` and lower case.
 */
import type { EcsAppSpec, EcsCapacityProviderItem, EcsNetworkConfiguration, FunctionHook, LambdaAppSpec } from './types.js';
import { at, isMap, item, kindOf, lookupKey, numberValue, scalarText, show, type AppSpecIssue, type YamlMap } from './values.js';

/** LambdaHookEvents are the lifecycle events a Lambda AppSpec may hook. */
export const LambdaHookEvents = ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const;

/** EcsHookEvents are the lifecycle events an ECS AppSpec may hook. */
export const EcsHookEvents = ['BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AfterAllowTraffic'] as const;

/** A map's field: the value under the key as spelt in the document, and the path to report it by. */
interface Field {
  value: unknown;
  path: string;
}

function field(map: YamlMap, name: string, path: string, issues: AppSpecIssue[]): Field {
  const found = lookupKey(map, name, path, issues);
  return { value: found?.value, path: at(path, found?.key ?? name) };
}

function isAbsent(v: unknown): boolean {
  return v === undefined || v === null;
}

/** Reads a required non-empty text field; `what` describes the expected value for the message. */
function requiredText(f: Field, what: string, issues: AppSpecIssue[]): string | undefined {
  const text = scalarText(f.value);
  if (isAbsent(f.value)) issues.push({ path: f.path, problem: `missing (${what})` });
  else if (text === undefined || text === '') issues.push({ path: f.path, problem: `must be ${what} (got ${text === '' ? 'an empty string' : kindOf(f.value)})` });
  else return text;
  return undefined;
}

/** Reads a required map field. */
function requiredMap(f: Field, what: string, issues: AppSpecIssue[]): YamlMap | undefined {
  if (isMap(f.value)) return f.value;
  issues.push({ path: f.path, problem: isAbsent(f.value) ? `missing (${what})` : `must be ${what} (got ${kindOf(f.value)})` });
  return undefined;
}

/** Reads a whole number of 0 or more, written as an integer or as digits in a string. */
function wholeNumber(v: unknown): number | undefined {
  const n = numberValue(v) ?? (typeof v === 'string' && /^[0-9]+$/.test(v.trim()) ? Number(v.trim()) : undefined);
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Splits a single-key map list item into its key and value, or records why it is not one. */
function singleKey(entry: unknown, path: string, what: string, issues: AppSpecIssue[]): { key: string; value: unknown } | undefined {
  const keys = isMap(entry) ? Object.keys(entry) : [];
  const [key] = keys;
  if (!isMap(entry) || key === undefined || keys.length !== 1) {
    const got = isMap(entry) ? `a map with ${keys.length} keys` : kindOf(entry);
    issues.push({ path, problem: `must be a single-key map of ${what} (got ${got})` });
    return undefined;
  }
  return { key, value: entry[key] };
}

function parseFunctionHooks(f: Field, platform: string, events: readonly string[], issues: AppSpecIssue[]): FunctionHook[] {
  if (isAbsent(f.value)) return [];
  if (!Array.isArray(f.value)) {
    issues.push({ path: f.path, problem: `must be a list of single-key maps such as "- ${events[0]}: MyValidationFunction" (got ${kindOf(f.value)})` });
    return [];
  }
  const out: FunctionHook[] = [];
  f.value.forEach((entry, i) => {
    const p = item(f.path, i);
    const hook = singleKey(entry, p, 'a lifecycle event to a Lambda function name', issues);
    if (hook === undefined) return;
    const eventPath = at(p, hook.key);
    if (!events.includes(hook.key)) {
      // fleetdeploy's OnFailure runs scripts on an instance; a function deployment has none.
      const onFailure = hook.key === 'OnFailure' ? ' (OnFailure is a Server AppSpec hook: the agent runs it on an instance after an event fails there)' : '';
      issues.push({ path: eventPath, problem: `not a lifecycle event of ${platform} deployments; use one of ${events.join(', ')}${onFailure}` });
      return;
    }
    if (out.some((h) => h.event === hook.key)) {
      issues.push({ path: eventPath, problem: 'given more than once (each event runs one function)' });
      return;
    }
    const functionName = requiredText({ value: hook.value, path: eventPath }, 'the name or ARN of a Lambda function', issues);
    if (functionName !== undefined) out.push({ event: hook.key, functionName });
  });
  return out;
}

function parseLambdaVersion(f: Field, issues: AppSpecIssue[]): string | undefined {
  const n = wholeNumber(f.value);
  if (isAbsent(f.value)) issues.push({ path: f.path, problem: 'missing (a published function version such as "2")' });
  else if (n === undefined || n < 1) issues.push({ path: f.path, problem: `invalid function version (${show(f.value)}); must be a positive whole number such as "2"` });
  else return String(n);
  return undefined;
}

/**
 * parseLambdaAppSpec validates the resources and hooks of a Lambda AppSpec (the version is checked by
 * the caller). Every resource must be an `AWS::Lambda::Function` with name, alias and both versions.
 */
export function parseLambdaAppSpec(doc: YamlMap, issues: AppSpecIssue[]): LambdaAppSpec {
  const resources: LambdaAppSpec['resources'] = [];
  const rf = field(doc, 'Resources', '', issues);
  if (!Array.isArray(rf.value) || rf.value.length === 0) {
    const got = isAbsent(rf.value) ? 'missing' : Array.isArray(rf.value) ? 'empty' : `got ${kindOf(rf.value)}`;
    issues.push({ path: rf.path, problem: `${got} (a list with the Lambda function to deploy is required)` });
  } else {
    rf.value.forEach((entry, i) => {
      const p = item(rf.path, i);
      const resource = singleKey(entry, p, 'a logical name to a resource', issues);
      if (resource === undefined) return;
      const rp = at(p, resource.key);
      const body = requiredMap({ value: resource.value, path: rp }, 'a map with Type and Properties', issues);
      if (body === undefined) return;
      const type = field(body, 'Type', rp, issues);
      if (isAbsent(type.value)) issues.push({ path: type.path, problem: 'missing (must be AWS::Lambda::Function)' });
      else if (type.value !== 'AWS::Lambda::Function') issues.push({ path: type.path, problem: `unsupported resource type (${show(type.value)}); must be AWS::Lambda::Function` });
      const propsField = field(body, 'Properties', rp, issues);
      const props = requiredMap(propsField, 'a map with Name, Alias, CurrentVersion and TargetVersion', issues);
      if (props === undefined) return;
      const pp = propsField.path;
      const name = requiredText(field(props, 'Name', pp, issues), 'the Lambda function name', issues);
      const alias = requiredText(field(props, 'Alias', pp, issues), 'the alias whose traffic shifts', issues);
      const currentVersion = parseLambdaVersion(field(props, 'CurrentVersion', pp, issues), issues);
      const targetVersion = parseLambdaVersion(field(props, 'TargetVersion', pp, issues), issues);
      if (name !== undefined && alias !== undefined && currentVersion !== undefined && targetVersion !== undefined) {
        resources.push({ logicalName: resource.key, name, alias, currentVersion, targetVersion });
      }
    });
  }
  const hooks = parseFunctionHooks(field(doc, 'Hooks', '', issues), 'Lambda', LambdaHookEvents, issues);
  return { kind: 'lambda', version: 0, resources, hooks };
}

function parseTextList(f: Field, what: string, issues: AppSpecIssue[]): string[] | undefined {
  if (!Array.isArray(f.value) || f.value.length === 0) {
    const got = isAbsent(f.value) ? 'missing' : Array.isArray(f.value) ? 'empty' : `got ${kindOf(f.value)}`;
    issues.push({ path: f.path, problem: `${got} (a list of ${what} is required)` });
    return undefined;
  }
  const out: string[] = [];
  f.value.forEach((v, i) => {
    const text = requiredText({ value: v, path: item(f.path, i) }, `a ${what.replace(/s$/, '')}`, issues);
    if (text !== undefined) out.push(text);
  });
  return out.length === f.value.length ? out : undefined;
}

function parseNetworkConfiguration(f: Field, issues: AppSpecIssue[]): EcsNetworkConfiguration | undefined {
  const net = requiredMap(f, 'a map with AwsvpcConfiguration', issues);
  if (net === undefined) return undefined;
  const vpcField = field(net, 'AwsvpcConfiguration', f.path, issues);
  const vpc = requiredMap(vpcField, 'a map with Subnets, SecurityGroups and AssignPublicIp', issues);
  if (vpc === undefined) return undefined;
  const subnets = parseTextList(field(vpc, 'Subnets', vpcField.path, issues), 'subnet IDs', issues);
  const securityGroups = parseTextList(field(vpc, 'SecurityGroups', vpcField.path, issues), 'security group IDs', issues);
  const ip = field(vpc, 'AssignPublicIp', vpcField.path, issues);
  if (ip.value !== 'ENABLED' && ip.value !== 'DISABLED') {
    issues.push({ path: ip.path, problem: `${isAbsent(ip.value) ? 'missing' : `invalid value (${show(ip.value)})`}; must be ENABLED or DISABLED` });
    return undefined;
  }
  if (subnets === undefined || securityGroups === undefined) return undefined;
  return { subnets, securityGroups, assignPublicIp: ip.value };
}

function parseCapacityProviders(f: Field, issues: AppSpecIssue[]): EcsCapacityProviderItem[] | undefined {
  if (!Array.isArray(f.value)) {
    issues.push({ path: f.path, problem: `must be a list of maps with CapacityProvider, Base and Weight (got ${kindOf(f.value)})` });
    return undefined;
  }
  const out: EcsCapacityProviderItem[] = [];
  f.value.forEach((entry, i) => {
    const p = item(f.path, i);
    const map = requiredMap({ value: entry, path: p }, 'a map with CapacityProvider, Base and Weight', issues);
    if (map === undefined) return;
    const capacityProvider = requiredText(field(map, 'CapacityProvider', p, issues), 'a capacity provider name', issues);
    const numbers: { base?: number; weight?: number } = {};
    for (const [key, name] of [['base', 'Base'], ['weight', 'Weight']] as const) {
      const nf = field(map, name, p, issues);
      if (isAbsent(nf.value)) continue;
      const n = wholeNumber(nf.value);
      if (n === undefined) issues.push({ path: nf.path, problem: `invalid value (${show(nf.value)}); must be a whole number of 0 or more` });
      else numbers[key] = n;
    }
    if (capacityProvider !== undefined) out.push({ capacityProvider, ...numbers });
  });
  return out;
}

/**
 * parseEcsAppSpec validates the resources and hooks of an ECS AppSpec (the version is checked by the
 * caller): exactly one `TargetService` of type `AWS::ECS::Service` with a task definition and the
 * container that receives load-balancer traffic.
 */
export function parseEcsAppSpec(doc: YamlMap, issues: AppSpecIssue[]): EcsAppSpec {
  const spec: EcsAppSpec = { kind: 'ecs', version: 0, taskDefinition: '', containerName: '', containerPort: 0, hooks: [] };
  const rf = field(doc, 'Resources', '', issues);
  const target = parseTargetService(rf, issues);
  if (target !== undefined) {
    const tp = target.path;
    const type = field(target.map, 'Type', tp, issues);
    if (isAbsent(type.value)) issues.push({ path: type.path, problem: 'missing (must be AWS::ECS::Service)' });
    else if (type.value !== 'AWS::ECS::Service') issues.push({ path: type.path, problem: `unsupported resource type (${show(type.value)}); must be AWS::ECS::Service` });
    const propsField = field(target.map, 'Properties', tp, issues);
    const props = requiredMap(propsField, 'a map with TaskDefinition and LoadBalancerInfo', issues);
    if (props !== undefined) parseEcsProperties(props, propsField.path, spec, issues);
  }
  spec.hooks = parseFunctionHooks(field(doc, 'Hooks', '', issues), 'ECS', EcsHookEvents, issues);
  return spec;
}

function parseTargetService(rf: Field, issues: AppSpecIssue[]): { map: YamlMap; path: string } | undefined {
  if (!Array.isArray(rf.value) || rf.value.length !== 1) {
    const got = isAbsent(rf.value) ? 'missing' : Array.isArray(rf.value) ? `got ${rf.value.length} entries` : `got ${kindOf(rf.value)}`;
    issues.push({ path: rf.path, problem: `${got} (a list with exactly one TargetService is required)` });
    return undefined;
  }
  const p = item(rf.path, 0);
  const resource = singleKey(rf.value[0], p, 'TargetService to the ECS service', issues);
  if (resource === undefined) return undefined;
  if (resource.key.toLowerCase() !== 'targetservice') {
    issues.push({ path: at(p, resource.key), problem: 'unknown resource; the only ECS resource is TargetService' });
    return undefined;
  }
  const path = at(p, resource.key);
  const map = requiredMap({ value: resource.value, path }, 'a map with Type and Properties', issues);
  return map === undefined ? undefined : { map, path };
}

function parseEcsProperties(props: YamlMap, pp: string, spec: EcsAppSpec, issues: AppSpecIssue[]): void {
  spec.taskDefinition = requiredText(field(props, 'TaskDefinition', pp, issues), 'the task definition ARN', issues) ?? '';
  const lbField = field(props, 'LoadBalancerInfo', pp, issues);
  const lb = requiredMap(lbField, 'a map with ContainerName and ContainerPort', issues);
  if (lb !== undefined) {
    spec.containerName = requiredText(field(lb, 'ContainerName', lbField.path, issues), 'the container that receives traffic', issues) ?? '';
    const port = field(lb, 'ContainerPort', lbField.path, issues);
    const n = wholeNumber(port.value);
    if (isAbsent(port.value)) issues.push({ path: port.path, problem: 'missing (the container port that receives traffic)' });
    else if (n === undefined || n < 1 || n > 65535) issues.push({ path: port.path, problem: `invalid port (${show(port.value)}); must be a whole number from 1 to 65535` });
    else spec.containerPort = n;
  }
  const pv = field(props, 'PlatformVersion', pp, issues);
  if (!isAbsent(pv.value)) {
    const platformVersion = requiredText(pv, 'a Fargate platform version such as LATEST', issues);
    if (platformVersion !== undefined) spec.platformVersion = platformVersion;
  }
  const net = field(props, 'NetworkConfiguration', pp, issues);
  if (!isAbsent(net.value)) {
    const networkConfiguration = parseNetworkConfiguration(net, issues);
    if (networkConfiguration !== undefined) spec.networkConfiguration = networkConfiguration;
  }
  const cps = field(props, 'CapacityProviderStrategy', pp, issues);
  if (!isAbsent(cps.value)) {
    const capacityProviderStrategy = parseCapacityProviders(cps, issues);
    if (capacityProviderStrategy !== undefined) spec.capacityProviderStrategy = capacityProviderStrategy;
  }
}
