export * from './errors.js';
export * from './appspec/types.js';
export * from './lifecycle.js';
export * from './deployment/spec.js';
