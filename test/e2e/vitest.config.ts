import { defineConfig } from 'vitest/config';

/**
 * The built site served by `wrangler pages dev`, driven in Chromium with real
 * WebGL (SwiftShader). The global setup builds and serves once per run.
 */
export default defineConfig({
  test: {
    name: 'e2e',
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    globalSetup: ['test/e2e/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    // One browser at a time: the machine's cores are shared with training runs.
    pool: 'forks',
    fileParallelism: false,
  },
});
