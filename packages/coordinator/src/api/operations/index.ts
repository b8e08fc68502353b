/** operations is the whole CodeDeploy operation table the API serves. */
import type { Operation } from '../codedeploy.js';
import type { ApiContext } from '../context.js';
import { applicationOperations } from './applications.js';
import { deploymentOperations } from './deployments.js';
import { instanceOperations } from './instances.js';
import { deploymentConfigOperations } from './deployment-configs.js';
import { deploymentGroupOperations } from './deployment-groups.js';
import { revisionOperations } from './revisions.js';
import { resourceTagOperations } from './resource-tags.js';
import { blueGreenOperations } from './blue-green.js';
import { lifecycleHookOperations } from './lifecycle-hooks.js';
import { githubConnectionOperations } from './github-connections.js';

export const operations: Readonly<Record<string, Operation<ApiContext>>> = Object.freeze({
  ...applicationOperations,
  ...deploymentOperations,
  ...instanceOperations,
  ...deploymentConfigOperations,
  ...deploymentGroupOperations,
  ...revisionOperations,
  ...resourceTagOperations,
  ...blueGreenOperations,
  ...lifecycleHookOperations,
  ...githubConnectionOperations,
});
