/**
 * Once per e2e run: build the site (npm run build), copy dist/ to a private
 * folder, serve that with `wrangler pages dev` on free ports in its own
 * process group, wait until it answers, and hand its URL to the tests.
 * Teardown kills the whole group. The copy keeps a run independent of anyone
 * rebuilding dist/ in the same tree meanwhile (hashed chunk names change).
 *
 * E2E_SKIP_BUILD=1 serves a copy of the existing dist/ (for iterating on the tests).
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}

const root = path.resolve(new URL('../..', import.meta.url).pathname);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(url: string, child: { exitCode: number | null }, log: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler pages dev exited with code ${child.exitCode}:\n${tail(log)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`wrangler pages dev did not answer ${url} within ${timeoutMs / 1000} s:\n${tail(log)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

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

  const log = path.join(work, 'wrangler.log');
  const out = openSync(log, 'a');
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const child = spawn(
    path.join(root, 'node_modules/.bin/wrangler'),
    ['pages', 'dev', site, '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', path.join(work, 'state'), '--show-interactive-dev-session=false'],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', CI: '1' },
    },
  );
  const stop = async () => {
    if (child.pid && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await new Promise((r) => setTimeout(r, 500));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(`${baseUrl}/models/index.json`, child, log, 120_000);
  } catch (e) {
    await stop();
    throw e;
  }
  console.log(`[e2e] wrangler pages dev serving ${site} at ${baseUrl}`);
  project.provide('baseUrl', baseUrl);
  return stop;
}
