/**
 * Decoding in the browser: headless Chromium (WebGL through SwiftShader here)
 * against the built site on `wrangler pages dev`, for the digits and the
 * faces studio on each tfjs backend and on the automatic choice.
 *
 *   npx tsx bench/browser.ts [--no-build] [--models digits,faces] [--frames 20]
 *
 * Per run, a fresh browser profile (cold cache):
 *  - bytes transferred before the first image, as served here and as
 *    Cloudflare would send them (text types gzipped; .bin and .wasm as they are);
 *  - time to the first image (navigation start to the studio's `ready`);
 *  - milliseconds per decode (decode + draw, through the studio's own path);
 *  - for faces, the morph's frames per second while playing.
 * The automatic choice is compared with the best backend measured alone.
 * Results: bench/results/browser.json.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { launchBenchBrowser } from './chromium.ts';
import { startPagesDev } from './pages-dev.ts';
import type {} from '../site/scripts/digits/hook.ts';
import type {} from '../site/scripts/faces/hook.ts';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    models: { type: 'string', default: 'digits,faces' },
    frames: { type: 'string', default: '20' },
  },
});
const FRAMES = Number(args.frames);
const MODELS = args.models!.split(',') as ('digits' | 'faces')[];
const BACKENDS = ['auto', 'webgl', 'wasm', 'cpu'] as const;
/** What Cloudflare compresses by default (developers.cloudflare.com/speed/optimization/content/compression): text types and application/wasm; model shards (.bin, octet-stream) go as they are. */
const COMPRESSIBLE = /javascript|json|css|html|svg|text\/|wasm/;

interface Run {
  model: string;
  backend: (typeof BACKENDS)[number];
  used: string;
  measuredAtStart: { name: string; ms: number }[];
  bytesRaw: number;
  bytesCompressed: number;
  requests: number;
  firstImageMs: number;
  decodeMs: number;
  morphFps: number | null;
  /** Faces: "New face" clicked to the settled face shown (the bundle's round trips), mean of 3. */
  newFaceMs: number | null;
}

async function measure(origin: string, model: 'digits' | 'faces', backend: Run['backend']): Promise<Run> {
  const { context, profile } = await launchBenchBrowser();
  try {
    let ready = false;
    let bytesRaw = 0;
    let bytesCompressed = 0;
    let requests = 0;
    const counting: Promise<void>[] = [];
    context.on('requestfinished', (request) => {
      if (ready) return;
      counting.push(
        (async () => {
          const response = await request.response();
          if (!response) return;
          const body = await response.body().catch(() => Buffer.alloc(0));
          const type = response.headers()['content-type'] ?? '';
          requests++;
          bytesRaw += body.length;
          bytesCompressed += COMPRESSIBLE.test(type) ? gzipSync(body).length : body.length;
        })(),
      );
    });
    const page = await context.newPage();
    const query = backend === 'auto' ? '' : `?backend=${backend}`;
    await page.goto(`${origin}/${model}${query}`);
    const hook = model === 'faces' ? '__faces' : '__atelier';
    await page.waitForFunction((h) => (window as unknown as Record<string, unknown>)[h] !== undefined, hook);
    const firstImageMs = await page.evaluate((h) => ((window as unknown as Record<string, { ready: Promise<void> }>)[h]!.ready.then(() => performance.now())), hook);
    ready = true;
    await Promise.all(counting);
    const info = await page.evaluate((h) => {
      const a = (window as unknown as Record<string, { backend: string; measured: { name: string; ms: number }[] }>)[h]!;
      return { used: a.backend, measured: a.measured };
    }, hook);

    let decodeMs: number;
    let morphFps: number | null = null;
    let newFaceMs: number | null = null;
    if (model === 'faces') {
      await page.evaluate(() => window.__faces!.settled());
      await page.evaluate(() => window.__faces!.morphFrames(3));
      decodeMs = (await page.evaluate((n) => window.__faces!.morphFrames(n), FRAMES)) / FRAMES;
      await page.locator('#morph-play').click();
      await page.waitForTimeout(3000);
      morphFps = (await page.evaluate(() => window.__faces!.morph())).fps;
      await page.locator('#morph-play').click();
      newFaceMs = await page.evaluate(async () => {
        const t0 = performance.now();
        for (let i = 0; i < 3; i++) {
          document.querySelector<HTMLButtonElement>('#generate')!.click();
          await window.__faces!.settled();
        }
        return (performance.now() - t0) / 3;
      });
    } else {
      await page.evaluate(() => window.__atelier!.settled());
      decodeMs = await page.evaluate(async (n) => {
        const a = window.__atelier!;
        for (let i = 0; i < 3; i++) await a.decode(i * 0.1, -i * 0.1);
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await a.decode(2 * Math.sin(i), 2 * Math.cos(i));
        return (performance.now() - t0) / n;
      }, FRAMES * 5);
    }
    return { model, backend, used: info.used, measuredAtStart: info.measured, bytesRaw, bytesCompressed, requests, firstImageMs, decodeMs, morphFps, newFaceMs };
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  if (!args['no-build']) {
    console.log('Building the site (npm run build)…');
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ASTRO_TELEMETRY_DISABLED: '1' } });
  }
  const work = mkdtempSync(path.join(tmpdir(), 'latent-atelier-bench-site-'));
  cpSync(path.join(root, 'dist'), path.join(work, 'dist'), { recursive: true });
  const server = await startPagesDev(path.join(work, 'dist'));
  const runs: Run[] = [];
  try {
    for (const model of MODELS) {
      for (const backend of BACKENDS) {
        process.stdout.write(`${model} on ${backend}… `);
        const r = await measure(server.origin, model, backend);
        runs.push(r);
        console.log(`${r.used}: first image ${r.firstImageMs.toFixed(0)} ms, ${(r.bytesCompressed / 1024).toFixed(0)} KiB, ${r.decodeMs.toFixed(1)} ms/decode${r.morphFps !== null ? `, morph ${r.morphFps.toFixed(1)} fps` : ''}${r.newFaceMs !== null ? `, new face settled in ${r.newFaceMs.toFixed(0)} ms` : ''}`);
      }
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }

  const kib = (b: number) => `${(b / 1024).toFixed(0)} KiB`;
  console.log(`\n${'model'.padEnd(7)} ${'asked'.padEnd(6)} ${'used'.padEnd(6)} ${'to 1st image'.padStart(12)} ${'sent (gz)'.padStart(10)} ${'raw'.padStart(10)} ${'ms/decode'.padStart(10)} ${'morph fps'.padStart(10)}`);
  for (const r of runs) {
    console.log(
      `${r.model.padEnd(7)} ${r.backend.padEnd(6)} ${r.used.padEnd(6)} ${`${r.firstImageMs.toFixed(0)} ms`.padStart(12)} ${kib(r.bytesCompressed).padStart(10)} ${kib(r.bytesRaw).padStart(10)} ${r.decodeMs.toFixed(1).padStart(10)} ${(r.morphFps === null ? '—' : r.morphFps.toFixed(1)).padStart(10)}`,
    );
  }
  const summary: Record<string, unknown> = {};
  for (const model of MODELS) {
    const mine = runs.filter((r) => r.model === model);
    const auto = mine.find((r) => r.backend === 'auto')!;
    const best = mine.filter((r) => r.backend !== 'auto').reduce((a, b) => (b.decodeMs < a.decodeMs ? b : a));
    const ratio = auto.decodeMs / best.decodeMs;
    summary[model] = { autoChose: auto.used, bestAlone: best.backend, autoOverBest: Math.round(ratio * 100) / 100, firstImageKiB: Math.round(auto.bytesCompressed / 1024) };
    console.log(`${model}: auto chose ${auto.used}; best alone ${best.backend}; auto ms/decode ÷ best = ${ratio.toFixed(2)} (target ≤ 1.2); first image after ${kib(auto.bytesCompressed)} compressed`);
  }
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  const results = {
    date: new Date().toISOString(),
    browser: 'headless Chromium (SwiftShader WebGL), wrangler pages dev on 127.0.0.1',
    machine: { cpus: cpus().length, loadAverageBefore: loadBefore, node: process.version },
    framesPerDecodeFigure: FRAMES,
    runs,
    summary,
  };
  writeFileSync(path.join(root, 'bench/results/browser.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log('Wrote bench/results/browser.json');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
