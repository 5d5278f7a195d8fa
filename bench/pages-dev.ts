/**
 * `wrangler pages dev` on free localhost ports, in its own process group, for
 * the benchmarks and the end-to-end tests: start it, wait until it answers,
 * stop the whole group (wrangler and its workerd) by the group id.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(new URL('..', import.meta.url).pathname);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

export interface PagesDev {
  origin: string;
  /** The last 20 kB of wrangler's output. */
  log(): string;
  /** Stops the process group, politely first; removes the state folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Serves `dir` (a built site with its functions/ beside the repo's
 * wrangler.toml) and resolves once `readyPath` answers 200.
 */
export async function startPagesDev(dir: string, opts: { readyPath?: string; timeoutMs?: number } = {}): Promise<PagesDev> {
  const readyPath = opts.readyPath ?? '/models/index.json';
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const persist = mkdtempSync(path.join(tmpdir(), 'latent-atelier-wrangler-'));
  const child = spawn(
    path.join(root, 'node_modules/.bin/wrangler'),
    ['pages', 'dev', dir, '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--persist-to', persist, '--log-level', 'warn', '--show-interactive-dev-session=false'],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', NO_COLOR: '1', CI: '1' },
    },
  );
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const pid = child.pid;
    if (pid && child.exitCode === null) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline) {
        try {
          process.kill(-pid, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(persist, { recursive: true, force: true });
  };

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler pages dev exited with code ${child.exitCode}:\n${log}`);
    }
    try {
      const response = await fetch(`${origin}${readyPath}`, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      if (response.status === 200) return { origin, log: () => log, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new Error(`wrangler pages dev did not answer ${origin}${readyPath} within ${timeoutMs / 1000} s:\n${log}`);
}
