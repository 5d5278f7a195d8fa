/**
 * Once per e2e run: build the site (npm run build), copy dist/ to a private
 * folder, serve that with `wrangler pages dev` on free ports in its own
 * process group, wait until it answers, and hand its URL to the tests.
 * Teardown kills the whole group. The copy keeps a run independent of anyone
 * rebuilding dist/ in the same tree meanwhile (hashed chunk names change).
 *
 * E2E_SKIP_BUILD=1 serves a copy of the existing dist/ (for iterating on the tests).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startPagesDev } from '../../bench/pages-dev.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

const root = path.resolve(new URL('../..', import.meta.url).pathname);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const work = mkdtempSync(path.join(tmpdir(), 'latent-atelier-e2e-'));
  const site = path.join(work, 'dist');
  const skipBuild = process.env.E2E_SKIP_BUILD === '1' && existsSync(path.join(root, 'dist/digits.html'));
  if (!skipBuild) {
    const t0 = Date.now();
    try {
      execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' } });
    } catch (e) {
      rmSync(work, { recursive: true, force: true });
      throw new Error(`npm run build failed (its errors are printed above): ${(e as Error).message}`);
    }
    console.log(`[e2e] built the site in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  cpSync(path.join(root, 'dist'), site, { recursive: true });

  let server;
  try {
    server = await startPagesDev(site);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
  const baseUrl = server.origin;
  const stop = async () => {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  };
  console.log(`[e2e] wrangler pages dev serving ${site} at ${baseUrl}`);
  project.provide('baseUrl', baseUrl);
  return stop;
}
