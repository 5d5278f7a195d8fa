import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'unit',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // tfjs keeps one global engine per process; files run in their own forks.
    pool: 'forks',
    fileParallelism: false,
  },
});
