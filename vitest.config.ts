import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/coordinator/console-ui/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // One CA for the run's coordinators, trusted by the workers (test/harness/test-ca.ts).
    globalSetup: ['./test/harness/test-ca.ts'],
    reporters: ['default', './test/harness/summary-reporter.ts'],
    // The test workers load the AWS SDK; on Node 20 each would print the SDK's notice that its releases
    // after January 2027 need Node 22 (README: what is supported). fleetdeploy's own programs silence it too.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
