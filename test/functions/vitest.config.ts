/**
 * The Pages Functions, tested inside workerd. Before the pool starts, the
 * functions/ folder is compiled by wrangler's own Pages router (the worker that
 * `wrangler pages dev` and a deployment run), and a throwaway site folder is
 * assembled from the fixture bundles plus the real public/_headers. The tests
 * reach that worker through `exports.default.fetch`, so every request goes
 * through the real router, the real asset server and the real headers rules;
 * nothing here needs a built site.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPagesASSETSBinding, cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const root = path.resolve(new URL('../..', import.meta.url).pathname);

function compatibilityDate(): string {
  const toml = readFileSync(path.join(root, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"(\d{4}-\d{2}-\d{2})"/m.exec(toml)?.[1];
  if (!date) throw new Error('wrangler.toml has no compatibility_date = "YYYY-MM-DD"');
  return date;
}

/** A site folder like dist/: fixture bundles, public/_headers, a page and a hashed asset. */
function assembleSite(dir: string): void {
  cpSync(path.join(root, 'test/fixtures/models'), path.join(dir, 'models'), { recursive: true });
  cpSync(path.join(root, 'public/_headers'), path.join(dir, '_headers'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><html><head><script type="module" src="/_astro/app.B1x2y3z4.js"></script></head><body>fixture site</body></html>\n');
  mkdirSync(path.join(dir, '_astro'));
  writeFileSync(path.join(dir, '_astro/app.B1x2y3z4.js'), 'export {};\n');
  // The training page and its worker: the only cross-origin-isolated responses.
  mkdirSync(path.join(dir, 'digits'));
  writeFileSync(path.join(dir, 'digits/train.html'), '<!doctype html><html><body>training page</body></html>\n');
  writeFileSync(path.join(dir, '_astro/train-worker-Ab12Cd34.js'), 'export {};\n');
}

function buildFunctions(outdir: string, date: string): string {
  execFileSync(
    path.join(root, 'node_modules/.bin/wrangler'),
    ['pages', 'functions', 'build', 'functions', '--outdir', outdir, '--compatibility-date', date],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' } },
  );
  return path.join(outdir, 'index.js');
}

export default defineConfig({
  plugins: [
    // Runs when this project's pool starts, not when the root config merely lists it.
    cloudflareTest(async () => {
      const work = mkdtempSync(path.join(tmpdir(), 'latent-atelier-functions-'));
      process.once('exit', () => rmSync(work, { recursive: true, force: true }));
      const site = path.join(work, 'site');
      mkdirSync(site);
      assembleSite(site);
      const date = compatibilityDate();
      return {
        main: buildFunctions(path.join(work, 'worker'), date),
        miniflare: {
          compatibilityDate: date,
          serviceBindings: { ASSETS: await buildPagesASSETSBinding(site) },
        },
      };
    }),
  ],
  test: {
    name: 'functions',
    root,
    include: ['test/functions/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
