export * from './deployment/fleet-plan.js';
