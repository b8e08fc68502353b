/**
 * Guards that let every request in as an admin, for tests that drive an API handler directly
 * (the in-process API harness, the bucket's unit tests) and are about what the API does, not who may
 * call it. Nothing outside testing/ and tests may use them: the coordinator always verifies.
 */
import type { BucketGuard, Caller, CodeDeployGuard } from '../auth/request-guards.js';

const TEST_CALLER: Caller = { keyId: 'AKIATESTUNCHECKED000', role: 'admin' };

/** uncheckedCodeDeployGuard admits every CodeDeploy request as an admin, signed or not. */
export const uncheckedCodeDeployGuard: CodeDeployGuard = {
  authenticate: () => Promise.resolve(TEST_CALLER),
  authorize: () => undefined,
};

/** uncheckedBucketGuard admits every bucket request as an admin, signed or not. */
export const uncheckedBucketGuard: BucketGuard = {
  authenticate: () => Promise.resolve(TEST_CALLER),
  authorize: () => undefined,
};
