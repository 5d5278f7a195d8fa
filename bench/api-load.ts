/**
 * Bounded load run: `wrangler pages dev` on a free localhost port, then a fixed
 * number of requests at a fixed concurrency to the mix endpoint and to a static
 * file served by the same server. Prints requests/s and p50/p99 latency for
 * each, their ratio and the error count, and writes bench/results/api-load.json.
 * The server runs in its own process group and is always stopped at the end.
 *
 *   npx tsx bench/api-load.ts [--requests 4000] [--concurrency 16]
 *
 * Serves dist/ (npm run build). Without dist/ it serves public/; when neither
 * holds a model with attribute vectors it serves the test fixtures instead,
 * and says so in the output.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { startPagesDev, type PagesDev } from './pages-dev.ts';

const root = path.resolve(new URL('..', import.meta.url).pathname);

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '16' },
  },
});
const REQUESTS = Number(args.requests);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = 200;
/** A phase that takes longer than this is stopped: the run is bounded in time as well as count. */
const PHASE_LIMIT_MS = 180_000;
if (!Number.isInteger(REQUESTS) || REQUESTS < 100 || !Number.isInteger(CONCURRENCY) || CONCURRENCY < 1) {
  throw new Error('--requests must be an integer of at least 100 and --concurrency a positive integer');
}

interface SiteChoice {
  dir: string;
  source: string;
  model: string;
  attributes: string[];
  cleanup?: string;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** The first deployed model in `dir` with attribute vectors, if any. */
function modelWithAttributes(dir: string): { model: string; attributes: string[] } | null {
  const index = path.join(dir, 'models/index.json');
  if (!existsSync(index)) return null;
  for (const id of (readJson(index) as { models: string[] }).models) {
    const manifestFile = path.join(dir, 'models', id, 'manifest.json');
    if (!existsSync(manifestFile)) continue;
    const manifest = readJson(manifestFile) as { attributes: string | null };
    if (!manifest.attributes) continue;
    const file = readJson(path.join(dir, 'models', id, manifest.attributes)) as { attributes: { name: string }[] };
    if (file.attributes.length >= 2) return { model: id, attributes: file.attributes.map((a) => a.name) };
  }
  return null;
}

function chooseSite(): SiteChoice {
  const dist = path.join(root, 'dist');
  const candidates: [string, string][] = [];
  if (existsSync(dist)) candidates.push([dist, 'dist/']);
  else console.log('dist/ not found: run `npm run build` to bench the built site; serving public/ for now.');
  candidates.push([path.join(root, 'public'), 'public/']);
  for (const [dir, source] of candidates) {
    const found = modelWithAttributes(dir);
    if (found) return { dir, source, ...found };
    console.log(`${source} has no deployed model with attribute vectors yet.`);
  }
  // Until training has written a faces bundle: the functions' test fixtures, with the real _headers.
  const work = mkdtempSync(path.join(tmpdir(), 'latent-atelier-bench-'));
  cpSync(path.join(root, 'test/fixtures/models'), path.join(work, 'models'), { recursive: true });
  if (existsSync(path.join(root, 'public/_headers'))) cpSync(path.join(root, 'public/_headers'), path.join(work, '_headers'));
  writeFileSync(path.join(work, 'index.html'), '<!doctype html><title>bench</title>\n');
  const found = modelWithAttributes(work);
  if (!found) throw new Error('test/fixtures/models has no model with attributes');
  console.log('Serving the test fixtures (test/fixtures/models) instead.');
  return { dir: work, source: 'test/fixtures (no trained faces bundle yet)', ...found, cleanup: work };
}

let server: PagesDev | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the server`);
    void (server?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  });
}

interface PhaseResult {
  requests: number;
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  firstErrors: string[];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** n requests, `concurrency` in flight at a time; `check` says what is wrong with an answer, if anything. */
async function phase(pool: Pool, n: number, pathFor: (i: number) => string, check: (status: number, body: string) => string | null): Promise<PhaseResult> {
  const latencies: number[] = [];
  const firstErrors: string[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n && performance.now() - started < PHASE_LIMIT_MS) {
      const i = next++;
      const t0 = performance.now();
      let problem: string | null;
      try {
        const { statusCode, body } = await pool.request({ path: pathFor(i), method: 'GET' });
        problem = check(statusCode, await body.text());
      } catch (e) {
        problem = String(e);
      }
      latencies.push(performance.now() - t0);
      if (problem) {
        errors++;
        if (firstErrors.length < 5) firstErrors.push(`${pathFor(i)}: ${problem}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 100) / 100;
  if (latencies.length < n) {
    errors += n - latencies.length;
    firstErrors.push(`stopped after ${PHASE_LIMIT_MS / 1000} s with ${n - latencies.length} requests not sent`);
  }
  return {
    requests: latencies.length,
    errors,
    seconds: round(seconds),
    requestsPerSecond: Math.round(latencies.length / seconds),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    firstErrors,
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const site = chooseSite();
  const [a, b] = site.attributes;
  const staticPath = '/models/index.json';
  const staticBody = readFileSync(path.join(site.dir, staticPath), 'utf8');
  // Slider-like queries: a new pair of weights on every request, as a drag produces.
  const mixPath = (i: number) => `/api/models/${site.model}/mix?${a}=${((i % 41) / 20 - 1).toFixed(2)}&${b}=${(((i * 7) % 41) / 20 - 1).toFixed(2)}`;
  const checkMix = (status: number, body: string) => {
    if (status !== 200) return `HTTP ${status}: ${body.slice(0, 120)}`;
    const parsed = JSON.parse(body) as { vector?: unknown[]; latentDim?: number };
    return Array.isArray(parsed.vector) && parsed.vector.length === parsed.latentDim ? null : 'no vector of latentDim numbers';
  };
  const checkStatic = (status: number, body: string) => (status !== 200 ? `HTTP ${status}` : body === staticBody ? null : 'body differs from the file');

  console.log(`Serving ${site.source} (${site.dir}) with wrangler pages dev; mixing ${site.model}: ${a}, ${b}`);
  const t0 = performance.now();
  let pool: Pool | undefined;
  try {
    server = await startPagesDev(site.dir, { readyPath: '/api/models', timeoutMs: 90_000 });
    const origin = server.origin;
    console.log(`Server ready in ${((performance.now() - t0) / 1000).toFixed(1)} s. ${REQUESTS} requests per endpoint, ${CONCURRENCY} at a time, after ${WARMUP} warm-up requests each.`);
    pool = new Pool(origin, { connections: CONCURRENCY, pipelining: 1 });
    await phase(pool, WARMUP, mixPath, checkMix);
    await phase(pool, WARMUP, () => staticPath, checkStatic);
    // Alternating halves, so a slow spell on a shared machine does not land on one endpoint only.
    const halves: Record<'mix' | 'static', PhaseResult[]> = { mix: [], static: [] };
    for (let round = 0; round < 2; round++) {
      halves.mix.push(await phase(pool, REQUESTS / 2, (i) => mixPath(i + round * REQUESTS), checkMix));
      halves.static.push(await phase(pool, REQUESTS / 2, () => staticPath, checkStatic));
    }
    const merge = (parts: PhaseResult[]): PhaseResult => {
      const requests = parts.reduce((s, p) => s + p.requests, 0);
      const seconds = parts.reduce((s, p) => s + p.seconds, 0);
      return {
        requests,
        errors: parts.reduce((s, p) => s + p.errors, 0),
        seconds: Math.round(seconds * 100) / 100,
        requestsPerSecond: Math.round(requests / seconds),
        // Halves are equal in size, so the mean of their percentiles is a fair summary.
        p50Ms: Math.round((parts.reduce((s, p) => s + p.p50Ms, 0) / parts.length) * 100) / 100,
        p99Ms: Math.round((parts.reduce((s, p) => s + p.p99Ms, 0) / parts.length) * 100) / 100,
        firstErrors: parts.flatMap((p) => p.firstErrors).slice(0, 5),
      };
    };
    const mix = merge(halves.mix);
    const stat = merge(halves.static);
    const ratio = Math.round((mix.requestsPerSecond / stat.requestsPerSecond) * 100) / 100;
    const errors = mix.errors + stat.errors;

    const row = (name: string, r: PhaseResult) => `${name.padEnd(54)} ${String(r.requestsPerSecond).padStart(8)} ${r.p50Ms.toFixed(2).padStart(9)} ${r.p99Ms.toFixed(2).padStart(9)} ${String(r.errors).padStart(7)}`;
    console.log(`\n${'endpoint'.padEnd(54)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'errors'.padStart(7)}`);
    console.log(row(`GET /api/models/${site.model}/mix?${a}=..&${b}=..`, mix));
    console.log(row(`GET ${staticPath} (static)`, stat));
    console.log(`\nmix / static throughput: ${ratio}  (errors: ${errors})`);
    for (const e of [...mix.firstErrors, ...stat.firstErrors]) console.log(`  error: ${e}`);

    const version = (readJson(path.join(root, 'node_modules/wrangler/package.json')) as { version: string }).version;
    const results = {
      date: new Date().toISOString(),
      server: `wrangler ${version} pages dev, 127.0.0.1, ${site.source}`,
      machine: { cpus: cpus().length, loadAverageBefore: loadBefore, node: process.version },
      requestsPerEndpoint: REQUESTS,
      concurrency: CONCURRENCY,
      warmup: WARMUP,
      mix: { path: `/api/models/${site.model}/mix?${a}=<w>&${b}=<w>`, ...mix },
      static: { path: staticPath, ...stat },
      mixOverStaticThroughput: ratio,
      errors,
    };
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/api-load.json'), `${JSON.stringify(results, null, 2)}\n`);
    console.log('Wrote bench/results/api-load.json');
    if (errors > 0) process.exitCode = 1;
  } finally {
    await pool?.close();
    await server?.stop();
    if (site.cleanup) rmSync(site.cleanup, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  void (server?.stop() ?? Promise.resolve()).then(() => process.exit(1));
});
