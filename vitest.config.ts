import { defineConfig } from 'vitest/config';

// The suite runs on 2-core CI machines; property tests solve many small MILPs, so a test's time
// limit is generous while the whole suite is kept well under ten minutes.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
