import { defineConfig } from 'vitest/config';

// Three suites with different runtimes: plain Node (unit, training), workerd
// (the Pages Functions) and Node driving Chromium against wrangler (e2e).
export default defineConfig({
  test: {
    projects: ['test/*/vitest.config.ts'],
  },
});
