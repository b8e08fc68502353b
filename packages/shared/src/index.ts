export * from './errors.js';
export * from './appspec/types.js';
export * from './lifecycle.js';
export * from './deployment/spec.js';
export * from './appspec/parse.js';
export * from './appspec/acl.js';
export * from './appspec/selinux.js';
export { normaliseMode } from './appspec/permissions.js';
export { LambdaHookEvents, EcsHookEvents } from './appspec/function-hooks.js';
