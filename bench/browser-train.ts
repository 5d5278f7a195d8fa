/**
 * Training the digits VAE in the browser (/digits/train) against Node's wasm
 * training of the same model on the same machine, in one run.
 *
 *   npx tsx bench/browser-train.ts [--no-build | --site DIR] [--backends wasm,webgl] [--steps 40] [--epoch] [--soak MINUTES]
 *
 * Node: the shared step (lib/vae-step.ts through site/scripts/train/trainer.ts,
 * the code Node training runs too) on the wasm backend with the project's
 * kernels and 2 threads, batch 64, timed over --steps steps after 3 warm-up
 * steps. Browser: the built site on `wrangler pages dev` (the real _headers,
 * so the page is cross-origin isolated and wasm gets threads) in Debian's
 * Chromium; per backend a fresh profile opens /digits/train?backend=X,
 * starts batch-64 training and times --steps steps after the first 5, as the
 * page runs them (map and grid refreshes included: what a visitor gets).
 * --epoch also times one whole epoch of the 10,000 images on wasm, from
 * Start to "done". --soak trains on wasm for that many minutes and samples,
 * every 30 s, the worker's tensors and bytes and the page's JS heap: what a
 * page left training for an hour would do, in a shorter run.
 * Results: bench/results/browser-train.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { readDigitSet } from '../lib/digit-set.ts';
import { BrowserTrainer } from '../site/scripts/train/trainer.ts';
import type {} from '../site/scripts/train/hook.ts';
import { selectBackend } from '../training/backend.ts';
import { launchBenchBrowser } from './chromium.ts';
import { startPagesDev } from './pages-dev.ts';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    site: { type: 'string' },
    backends: { type: 'string', default: 'wasm,webgl' },
    steps: { type: 'string', default: '40' },
    epoch: { type: 'boolean', default: false },
    soak: { type: 'string', default: '0' },
  },
});
const STEPS = Number(args.steps);
const BATCH = 64;

async function nodeImagesPerSecond(): Promise<{ backend: string; imagesPerSecond: number }> {
  const backend = await selectBackend('wasm', 2);
  const data = await readDigitSet(new Uint8Array(readFileSync(path.join(root, 'public/data/mnist-10k.bin'))));
  const t = new BrowserTrainer(data, { beta: 1, learningRate: 1e-3, batchSize: BATCH, warmupEpochs: 0, epochs: 1, seed: 1 });
  for (let i = 0; i < 3; i++) t.step();
  const t0 = performance.now();
  for (let i = 0; i < STEPS; i++) t.step();
  const seconds = (performance.now() - t0) / 1000;
  t.dispose();
  return { backend: backend.name, imagesPerSecond: (STEPS * BATCH) / seconds };
}

async function openTrainer(page: Page, origin: string, backend: string): Promise<{ used: string; threads: number; isolated: boolean; measured: unknown }> {
  await page.goto(`${origin}/digits/train?backend=${backend}`);
  await page.waitForFunction(() => window.__trainer?.backendReport != null, undefined, { timeout: 180_000 });
  return page.evaluate(() => {
    const r = window.__trainer!.backendReport!;
    return { used: r.used, threads: r.threads, isolated: r.isolated, measured: r.measured };
  });
}

async function waitStep(page: Page, step: number, timeoutMs: number): Promise<number> {
  await page.waitForFunction((n) => (window.__trainer?.step ?? 0) >= n, step, { timeout: timeoutMs, polling: 20 });
  return page.evaluate(() => window.__trainer!.step);
}

async function browserRate(origin: string, backend: string): Promise<Record<string, unknown>> {
  const { context, profile } = await launchBenchBrowser();
  try {
    const page = await context.newPage();
    const report = await openTrainer(page, origin, backend);
    await page.evaluate((b) => window.__trainer!.start({ batchSize: b, epochs: 5 }), BATCH);
    const s0 = await waitStep(page, 5, 300_000);
    const t0 = Date.now();
    const s1 = await waitStep(page, s0 + STEPS, 900_000);
    const seconds = (Date.now() - t0) / 1000;
    const last = await page.evaluate(() => window.__trainer!.last);
    return { backend, ...report, steps: s1 - s0, seconds, imagesPerSecond: ((s1 - s0) * BATCH) / seconds, reportedImagesPerSecond: last?.imagesPerSecond ?? null };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function browserEpoch(origin: string): Promise<{ seconds: number; images: number }> {
  const { context, profile } = await launchBenchBrowser();
  try {
    const page = await context.newPage();
    await openTrainer(page, origin, 'wasm');
    const t0 = Date.now();
    await page.evaluate((b) => window.__trainer!.start({ batchSize: b, epochs: 1 }), BATCH);
    await page.waitForFunction(() => window.__trainer?.trainer === 'done', undefined, { timeout: 900_000, polling: 100 });
    return { seconds: (Date.now() - t0) / 1000, images: 10_000 };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

interface SoakSample {
  minute: number;
  step: number;
  tensors: number;
  bytes: number;
  pageHeapMB: number | null;
}

async function soak(origin: string, minutes: number): Promise<SoakSample[]> {
  const { context, profile } = await launchBenchBrowser();
  const samples: SoakSample[] = [];
  try {
    const page = await context.newPage();
    await openTrainer(page, origin, 'wasm');
    await page.evaluate((b) => window.__trainer!.start({ batchSize: b, epochs: 20 }), BATCH);
    const t0 = Date.now();
    while (Date.now() - t0 < minutes * 60_000) {
      await page.waitForTimeout(30_000);
      const s = await page.evaluate(async () => {
        const m = await window.__trainer!.memory();
        const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
        return { step: window.__trainer!.step, tensors: m.tensors, bytes: m.bytes, pageHeapMB: heap === undefined ? null : heap / 2 ** 20 };
      });
      samples.push({ minute: Math.round((Date.now() - t0) / 600) / 100, ...s });
      console.log(`soak ${samples.at(-1)!.minute} min: step ${s.step}, ${s.tensors} tensors, ${(s.bytes / 2 ** 20).toFixed(1)} MB, page heap ${s.pageHeapMB?.toFixed(1) ?? '?'} MB`);
    }
    return samples;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

function siteDir(): { dir: string; cleanup: () => void } {
  if (args.site || args['no-build']) return { dir: path.resolve(root, args.site ?? 'dist'), cleanup: () => {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'latent-atelier-bench-site-'));
  console.log(`Building the site into ${dir}…`);
  execFileSync('npx', ['astro', 'build', '--outDir', dir], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' } });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function main(): Promise<void> {
  const site = siteDir();
  const dev = await startPagesDev(site.dir, { readyPath: '/digits/train' });
  try {
    const node = await nodeImagesPerSecond();
    console.log(`Node ${node.backend}: ${node.imagesPerSecond.toFixed(1)} img/s (batch ${BATCH}, ${STEPS} steps)`);
    const browser: Record<string, unknown>[] = [];
    for (const b of args.backends!.split(',')) {
      const r = await browserRate(dev.origin, b);
      browser.push(r);
      const ratio = (r.imagesPerSecond as number) / node.imagesPerSecond;
      console.log(`browser ${b} → ${String(r.used)} (${String(r.threads)} thread(s), isolated ${String(r.isolated)}): ${(r.imagesPerSecond as number).toFixed(1)} img/s, ${ratio.toFixed(2)}x Node`);
    }
    const epoch = args.epoch ? await browserEpoch(dev.origin) : null;
    if (epoch) console.log(`one epoch of ${epoch.images} images on wasm, Start to done: ${epoch.seconds.toFixed(1)} s (target ≤ 60 s)`);
    const soakSamples = Number(args.soak) > 0 ? await soak(dev.origin, Number(args.soak)) : null;
    const out = { date: new Date().toISOString(), machine: { cpu: cpus()[0]?.model, cores: cpus().length, load: loadavg() }, batch: BATCH, steps: STEPS, node, browser: browser.map((r) => ({ ...r, overNode: Math.round(((r.imagesPerSecond as number) / node.imagesPerSecond) * 100) / 100 })), epoch, soak: soakSamples };
    mkdirSync(path.join(root, 'bench/results'), { recursive: true });
    writeFileSync(path.join(root, 'bench/results/browser-train.json'), JSON.stringify(out, null, 1) + '\n');
  } finally {
    await dev.stop();
    site.cleanup();
  }
}

await main();
