export * from './deployment/fleet-plan.js';
export * from './fleet/tag-match.js';
