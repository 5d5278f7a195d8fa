/**
 * The decode worker against the page's thread: milliseconds per decode for
 * the digits and the faces studio on the wasm and cpu backends, decoded in
 * the worker (the default) and on the page (?worker=off), in one run.
 *
 *   npx tsx bench/worker-vs-page.ts [--no-build | --site DIR] [--models digits,faces] [--backends wasm,cpu] [--rounds 2] [--out NAME]
 *
 * --no-build serves dist/ as it is; --site serves another built site (say,
 * one built from an earlier version, for before/after figures).
 *
 * Each measurement is a fresh browser profile on the built site (a private
 * build, served by `wrangler pages dev`). Per model and backend the worker
 * and the page run back to back, in alternating order over the rounds; the
 * median over rounds counts, and the worker/page ratio is the figure to read
 * (the machine is shared and noisy).
 *  - studio: decode + draw through the studio's own path (faces: morph
 *    frames; digits: the map's decode), back to back. On the page these
 *    decodes never yield, so nothing is painted until the last; replies
 *    from the worker each arrive in a task of their own, and the browser
 *    paints between them;
 *  - painted: the same with a task boundary after each decode in both
 *    places, so both pay for painting what they show;
 *  - inWorker (worker only): the worker's own decode handler, timed inside
 *    the worker, so messaging and drawing are left out;
 *  - threadProbe: a fixed plain-JavaScript loop on the thread that decodes,
 *    to tell a slower thread from slower decoding on it;
 *  - wasmBinary: which tfjs .wasm file the engine fetched (SIMD or not).
 * Results: bench/results/worker-vs-page.json (or NAME.json).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page, Worker } from 'playwright-core';
import { launchBenchBrowser } from './chromium.ts';
import { startPagesDev } from './pages-dev.ts';
import type {} from '../site/scripts/digits/hook.ts';
import type {} from '../site/scripts/faces/hook.ts';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    models: { type: 'string', default: 'faces,digits' },
    backends: { type: 'string', default: 'wasm,cpu' },
    rounds: { type: 'string', default: '2' },
    site: { type: 'string' },
    out: { type: 'string', default: 'worker-vs-page' },
  },
});
type Model = 'digits' | 'faces';
type Backend = 'wasm' | 'cpu';
type Where = 'worker' | 'page';
const MODELS = args.models!.split(',') as Model[];
const BACKENDS = args.backends!.split(',') as Backend[];
const ROUNDS = Number(args.rounds);
/** Timed decodes per measurement: fewer where a decode is slow. */
const DECODES: Record<Model, Record<Backend, number>> = { faces: { wasm: 30, cpu: 8 }, digits: { wasm: 100, cpu: 40 } };

interface Measurement {
  model: Model;
  backend: Backend;
  where: Where;
  round: number;
  used: string | null;
  decodes: number;
  studioMs: number;
  /** The same decodes with a task boundary after each (as replies from the worker have), so the browser paints between them. */
  paintedMs: number;
  inWorkerMs: number | null;
  threadProbeMs: number;
  wasmBinary: string | null;
  crossOriginIsolated: boolean;
}

/** The same plain-JavaScript work wherever it runs (page.evaluate or worker.evaluate). */
function threadProbe(): number {
  const a = new Float32Array(1 << 16);
  for (let i = 0; i < a.length; i++) a[i] = (i % 7) * 0.25;
  let s = 0;
  const t0 = performance.now();
  for (let r = 0; r < 300; r++) for (let i = 0; i < a.length; i++) s += a[i]! * 1.0001;
  const ms = performance.now() - t0;
  return s === -1 ? 0 : ms;
}

/**
 * Times the worker's own decode handler from inside the worker: a decode
 * message is handed to its onmessage, and the reply (an id the page never
 * asked for) is caught before it is posted. A string, not a function: tsx
 * would wrap named inner functions in a helper the worker does not have.
 */
function timeInsideWorker(dim: number, n: number): string {
  return `(async () => {
    const scope = self;
    const post = scope.postMessage;
    const BASE = 1e9;
    let answer = null;
    scope.postMessage = (m, t) => (typeof m.id === 'number' && m.id >= BASE ? answer(m) : post.call(scope, m, t));
    const once = (i) => new Promise((resolve) => {
      answer = resolve;
      const points = new Float32Array(${dim}).map((_, k) => Math.sin(i + k));
      scope.onmessage({ data: { type: 'decode', id: BASE + i, points } });
    });
    try {
      for (let i = 0; i < 3; i++) await once(i);
      const t0 = performance.now();
      for (let i = 0; i < ${n}; i++) await once(i);
      return (performance.now() - t0) / ${n};
    } finally {
      scope.postMessage = post;
    }
  })()`;
}

async function decodeWorker(page: Page): Promise<Worker> {
  const find = () => page.workers().find((w) => w.url().includes('decode-worker'));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const w = find();
    if (w) return w;
    await page.waitForTimeout(100);
  }
  throw new Error(`no decode worker on ${page.url()} (workers: ${page.workers().map((w) => w.url()).join(', ') || 'none'})`);
}

async function measure(origin: string, model: Model, backend: Backend, where: Where, round: number): Promise<Measurement> {
  const { context, profile } = await launchBenchBrowser();
  try {
    let wasmBinary: string | null = null;
    context.on('request', (r) => {
      if (r.url().endsWith('.wasm')) wasmBinary = r.url().split('/').pop() ?? null;
    });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${origin}/${model}?backend=${backend}${where === 'page' ? '&worker=off' : ''}`);
    const n = DECODES[model][backend];
    let studioMs: number;
    let paintedMs: number;
    let used: string | null;
    let dim: number;
    let actualWhere: string | null;
    if (model === 'faces') {
      await page.waitForFunction(() => window.__faces !== undefined);
      await page.evaluate(() => window.__faces!.ready);
      await page.evaluate(() => window.__faces!.settled());
      ({ used, dim, actualWhere } = await page.evaluate(() => ({ used: window.__faces!.backend, dim: window.__faces!.face().base.length, actualWhere: window.__faces!.where })));
      await page.evaluate(() => window.__faces!.morphFrames(3));
      studioMs = (await page.evaluate((k) => window.__faces!.morphFrames(k), n)) / n;
      paintedMs = await page.evaluate(async (k) => {
        const t0 = performance.now();
        for (let i = 0; i < k; i++) {
          await window.__faces!.morphFrames(1);
          await new Promise((r) => {
            const c = new MessageChannel();
            c.port1.onmessage = () => r(null);
            c.port2.postMessage(0);
          });
        }
        return (performance.now() - t0) / k;
      }, n);
    } else {
      await page.waitForFunction(() => window.__atelier !== undefined);
      await page.evaluate(() => window.__atelier!.ready);
      await page.evaluate(() => window.__atelier!.settled());
      ({ used, dim, actualWhere } = await page.evaluate(() => ({ used: window.__atelier!.backend, dim: window.__atelier!.shown.length, actualWhere: window.__atelier!.where })));
      studioMs = await page.evaluate(async (k) => {
        const a = window.__atelier!;
        for (let i = 0; i < 3; i++) await a.decode(i * 0.1, -i * 0.1);
        const t0 = performance.now();
        for (let i = 0; i < k; i++) await a.decode(2 * Math.sin(i), 2 * Math.cos(i));
        return (performance.now() - t0) / k;
      }, n);
      paintedMs = await page.evaluate(async (k) => {
        const a = window.__atelier!;
        const t0 = performance.now();
        for (let i = 0; i < k; i++) {
          await a.decode(2 * Math.cos(i), 2 * Math.sin(i));
          await new Promise((r) => {
            const c = new MessageChannel();
            c.port1.onmessage = () => r(null);
            c.port2.postMessage(0);
          });
        }
        return (performance.now() - t0) / k;
      }, n);
    }
    if (actualWhere !== where) throw new Error(`${model} ?backend=${backend}: asked to decode in the ${where}, it decodes in the ${actualWhere}`);
    let inWorkerMs: number | null = null;
    let probeMs: number;
    let isolated: boolean;
    if (where === 'worker') {
      const worker = await decodeWorker(page);
      inWorkerMs = (await worker.evaluate(timeInsideWorker(dim, n))) as number;
      probeMs = await worker.evaluate(threadProbe);
      isolated = await worker.evaluate(() => self.crossOriginIsolated);
    } else {
      probeMs = await page.evaluate(threadProbe);
      isolated = await page.evaluate(() => self.crossOriginIsolated);
    }
    if (errors.length) throw new Error(`${model} ${backend} ${where}: page errors: ${errors.join('; ')}`);
    return { model, backend, where, round, used, decodes: n, studioMs, paintedMs, inWorkerMs, threadProbeMs: probeMs, wasmBinary, crossOriginIsolated: isolated };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const work = mkdtempSync(path.join(tmpdir(), 'latent-atelier-bench-site-'));
  const site = path.join(work, 'dist');
  if (args.site || args['no-build']) {
    execFileSync('cp', ['-r', args.site ?? path.join(root, 'dist'), site]);
  } else {
    // A private build: dist/ is shared with whoever else builds and serves in this tree.
    console.log('Building the site…');
    execFileSync('npx', ['astro', 'build', '--outDir', site], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' } });
  }
  const server = await startPagesDev(site);
  const runs: Measurement[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const model of MODELS) {
        for (const backend of BACKENDS) {
          const order: Where[] = round % 2 === 0 ? ['worker', 'page'] : ['page', 'worker'];
          for (const where of order) {
            process.stdout.write(`round ${round + 1}: ${model} ${backend} in the ${where}… `);
            const r = await measure(server.origin, model, backend, where, round);
            runs.push(r);
            console.log(`${r.studioMs.toFixed(1)} ms/decode (${r.paintedMs.toFixed(1)} painting each)${r.inWorkerMs === null ? '' : ` (${r.inWorkerMs.toFixed(1)} inside the worker)`}, probe ${r.threadProbeMs.toFixed(0)} ms, ${r.wasmBinary ?? 'no wasm'}`);
          }
        }
      }
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const summary: Record<string, unknown> = {};
  console.log(`\n${'model'.padEnd(7)} ${'backend'.padEnd(7)} ${'worker'.padStart(9)} ${'in worker'.padStart(9)} ${'page'.padStart(9)} ${'worker/page'.padStart(11)} ${'painted w/p'.padStart(11)} ${'probe w/p'.padStart(9)}`);
  for (const model of MODELS) {
    for (const backend of BACKENDS) {
      const of = (where: Where) => runs.filter((r) => r.model === model && r.backend === backend && r.where === where);
      const worker = median(of('worker').map((r) => r.studioMs));
      const inWorker = median(of('worker').map((r) => r.inWorkerMs!));
      const page = median(of('page').map((r) => r.studioMs));
      const workerPainted = median(of('worker').map((r) => r.paintedMs));
      const pagePainted = median(of('page').map((r) => r.paintedMs));
      const probe = median(of('worker').map((r) => r.threadProbeMs)) / median(of('page').map((r) => r.threadProbeMs));
      // Per round, so each ratio compares runs made back to back.
      const perRound = [...Array(ROUNDS).keys()].map((k) => round1((100 * of('worker')[k]!.studioMs) / of('page')[k]!.studioMs) / 100);
      summary[`${model} ${backend}`] = { workerMs: round1(worker), inWorkerMs: round1(inWorker), pageMs: round1(page), workerOverPage: Math.round((worker / page) * 100) / 100, workerOverPagePerRound: perRound, paintedWorkerMs: round1(workerPainted), paintedPageMs: round1(pagePainted), paintedWorkerOverPage: Math.round((workerPainted / pagePainted) * 100) / 100, threadProbeWorkerOverPage: Math.round(probe * 100) / 100 };
      console.log(`${model.padEnd(7)} ${backend.padEnd(7)} ${worker.toFixed(1).padStart(9)} ${inWorker.toFixed(1).padStart(9)} ${page.toFixed(1).padStart(9)} ${(worker / page).toFixed(2).padStart(11)} ${`${workerPainted.toFixed(1)}/${pagePainted.toFixed(1)}`.padStart(11)} ${probe.toFixed(2).padStart(9)}`);
    }
  }
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  const results = {
    date: new Date().toISOString(),
    browser: 'headless Chromium (SwiftShader WebGL), wrangler pages dev on 127.0.0.1',
    machine: { cpus: cpus().length, loadAverageBefore: loadBefore, loadAverageAfter: loadavg().map((x) => Math.round(x * 100) / 100), node: process.version },
    site: args.site ?? (args['no-build'] ? 'dist/' : 'built for this run'),
    rounds: ROUNDS,
    runs,
    summary,
  };
  const file = `bench/results/${path.basename(args.out!)}.json`;
  writeFileSync(path.join(root, file), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`Wrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
