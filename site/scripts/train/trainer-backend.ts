/**
 * Where the browser trains: each candidate backend (WebGL, then WebAssembly)
 * is started and timed over a few real training steps of the digits model,
 * and the fastest is kept, as the studios choose their decode backend. On
 * WebAssembly the kernels Node training uses are registered too: the filter
 * gradient wasm lacks, the in-place bias-gradient sum and the zero-copy
 * Identity (the XNNPACK transposed convolution comes with the decode path).
 * Threads need a cross-origin-isolated page; without one wasm runs on one.
 */
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { DigitSet } from '../../../lib/digit-set.ts';
import { registerFastWasmSum } from '../../../lib/wasm-fast-sum.ts';
import { registerWasmFilterGradients } from '../../../lib/wasm-filter-grad.ts';
import { registerSharedWasmIdentity } from '../../../lib/wasm-identity.ts';
import { backendOrder, isSoftwareRenderer, type BackendName, type BackendRequest } from '../engine/backend-choice.ts';
import { activateBackend, tf } from '../engine/tf-runtime.ts';
import type { TrainerBackendReport } from './protocol.ts';
import { BrowserTrainer } from './trainer.ts';

/** Timed when nothing is forced; plain JavaScript only when neither starts (it is ~100x slower). */
const MEASURED: readonly BackendName[] = ['webgl', 'wasm'];
const MEASURE_BATCH = 64;
/** The emscripten pool starts 8 workers; more threads would only spawn more. */
const MAX_THREADS = 8;
/** Timed steps after one warm-up step (shader compilation, kernel set-up). */
const TIMED_STEPS = 3;
/** Timing stops after this long once one step is timed (a slow GPU must not hold up the page). */
const TIMED_MS = 2000;

/** Starts a backend and, on wasm, registers the training kernels. */
export async function useBackend(name: BackendName): Promise<void> {
  if (name === 'wasm') await activateWasmWithAllCores();
  else await activateBackend(name);
  if (name === 'wasm') {
    registerWasmFilterGradients();
    registerFastWasmSum();
    registerSharedWasmIdentity();
  }
}

/**
 * The wasm backend with a thread per core. tfjs' backend.cc caps its XNNPACK
 * pool at emscripten_num_logical_cores() / 2 (it assumes two hardware threads
 * per core): one thread on a 2-core machine. Emscripten reads that figure from
 * navigator.hardwareConcurrency, so while the module starts the worker's
 * navigator reports twice the cores (Node training does the same through its
 * own module set-up, training/wasm/threads.ts); the real figure is back after.
 */
async function activateWasmWithAllCores(): Promise<void> {
  const cores = Math.max(1, Math.min(MAX_THREADS, navigator.hardwareConcurrency || 1));
  setThreadsCount(cores);
  const nav = navigator as Navigator & { hardwareConcurrency: number };
  Object.defineProperty(nav, 'hardwareConcurrency', { configurable: true, get: () => 2 * cores });
  try {
    await activateBackend('wasm');
  } finally {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/** Images per second of real training steps on the active backend: up to TIMED_STEPS steps, or TIMED_MS, after one warm-up step. */
function timeTraining(data: DigitSet): number {
  const trainer = new BrowserTrainer(data, { beta: 1, learningRate: 1e-3, batchSize: MEASURE_BATCH, epochs: 1, warmupEpochs: 0, seed: 1 });
  try {
    trainer.step();
    const t0 = performance.now();
    let steps = 0;
    while (steps < TIMED_STEPS && (steps === 0 || performance.now() - t0 < TIMED_MS)) {
      trainer.step();
      steps++;
    }
    return (steps * MEASURE_BATCH) / ((performance.now() - t0) / 1000);
  } finally {
    trainer.dispose();
  }
}

/** Why a candidate is not worth timing here, or null: WebGL drawn by a software renderer trains ~50x slower than wasm (3 vs 150+ images/s under SwiftShader on 2 cores) and timing it takes a minute. */
function notWorthTiming(name: BackendName, renderer: string | null): string | null {
  if (name !== 'webgl' || !isSoftwareRenderer(renderer)) return null;
  return `no GPU: WebGL is emulated on the CPU (${renderer}), where training is far slower than on WebAssembly; add ?backend=webgl to time it anyway`;
}

function rendererName(): string | null {
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return null;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name: unknown = gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof name === 'string' ? name : null;
  } catch {
    return null;
  }
}

/** XNNPACK's pool size as the running wasm module reports it (the calling thread included). */
function wasmThreads(): number {
  const b = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
  return b.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}

function isolated(): boolean {
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

/**
 * Measures the candidates (only the forced one with ?backend=), keeps the
 * fastest active and says how the choice was made.
 */
export async function chooseTrainingBackend(request: BackendRequest, data: DigitSet): Promise<TrainerBackendReport> {
  const candidates = request.forced ? [request.forced] : [...MEASURED];
  const measured: TrainerBackendReport['measured'] = [];
  const failed: TrainerBackendReport['failed'] = [];
  const skipped: TrainerBackendReport['skipped'] = [];
  const renderer = candidates.includes('webgl') ? rendererName() : null;
  for (const name of candidates) {
    const skip = request.forced ? null : notWorthTiming(name, renderer);
    if (skip) {
      skipped.push({ name, reason: skip });
      continue;
    }
    try {
      await useBackend(name);
      measured.push({ name, imagesPerSecond: timeTraining(data) });
    } catch (e) {
      failed.push({ name, reason: (e as Error).message || String(e) });
    }
  }
  if (measured.length === 0) {
    const fallback = backendOrder(request).find((b) => !candidates.includes(b)) ?? 'cpu';
    await useBackend(fallback).catch((e: Error) => {
      throw new Error(`no backend could train here: ${[...failed.map((f) => `${f.name}: ${f.reason}`), `${fallback}: ${e.message}`].join('; ')}`);
    });
    measured.push({ name: fallback, imagesPerSecond: timeTraining(data) });
  }
  const best = measured.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
  if (tf.getBackend() !== best.name) await useBackend(best.name);
  return {
    used: best.name,
    threads: best.name === 'wasm' ? wasmThreads() : 1,
    isolated: isolated(),
    measured,
    failed,
    skipped,
    renderer,
  };
}
