/**
 * Starting the decoder where tfjs runs (the decode worker, or the page when
 * workers are unavailable): the backend is chosen by measuring, not assumed.
 *
 * Without ?backend=, each candidate backend (WebGL, then WebAssembly) is
 * started, the model built on it, warmed up (shaders compiled), and timed
 * over a few single-image decodes; the fastest is kept. On a real GPU WebGL
 * wins; under software GL (headless browsers, some VMs, blocklisted GPUs) the
 * WebAssembly backend often does. The plain JavaScript backend is only tried
 * when neither starts: it is never faster than WebAssembly.
 */
import type { io } from '@tensorflow/tfjs-core';
import type { ImageShape } from '../../../lib/bundle.ts';
import type { BackendName, BackendRequest } from './backend-choice.ts';
import { createDecoder, type Decoder } from './decoder.ts';
import { activateBackend, startBackend, tf, type BackendOutcome } from './tf-runtime.ts';

/** Backends timed when nothing is forced, in order of preference on a tie. */
export const MEASURED: readonly BackendName[] = ['webgl', 'wasm'];
/** Timed decodes per backend after the warm-up; the median counts. */
const TIMED_DECODES = 3;

export interface Measurement {
  name: BackendName;
  /** Median milliseconds per single-image decode, read back included. */
  ms: number;
  /** The first decode: shader compilation or kernel set-up included. */
  warmupMs: number;
}

export interface EngineOutcome extends BackendOutcome {
  /** Empty when the backend was forced by the address; an earlier visit's figures when `remembered`. */
  measured: Pick<Measurement, 'name' | 'ms'>[];
  /** The backend was the one measured fastest on an earlier visit; nothing was timed this time. */
  remembered?: boolean;
  /** Warm-up of the kept backend's decoder, in milliseconds. */
  warmupMs: number;
}

export interface MemoryInfo {
  numTensors: number;
  numBytes: number;
  numBytesInGPU: number | null;
  numBytesInGPUAllocated: number | null;
}

export function memoryInfo(): MemoryInfo {
  const m = tf.memory() as { numTensors: number; numBytes: number; numBytesInGPU?: number; numBytesInGPUAllocated?: number };
  return { numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: m.numBytesInGPU ?? null, numBytesInGPUAllocated: m.numBytesInGPUAllocated ?? null };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeDecoder(decoder: Decoder, latentDim: number): Promise<Omit<Measurement, 'name'>> {
  const point = new Float32Array(latentDim);
  return timeCalls((i) => {
    if (i >= 0) point[i % latentDim] = 0.5;
    return decoder.decode(point);
  });
}

/** Something a backend runs, timed by `time` and released by `dispose`. */
export interface Measurable<T> {
  build(): Promise<T>;
  time(thing: T): Promise<Omit<Measurement, 'name'>>;
  dispose(thing: T): void;
}

/**
 * Builds and times `m` on each measured backend (skipping `blocked`), leaves
 * the fastest active and removes the others. No measurement means neither
 * WebGL nor WebAssembly could run it; the caller falls back.
 */
export async function measureBackends<T>(m: Measurable<T>, blocked: BackendOutcome['failed'] = []): Promise<{ best: Measurement | null; measured: Measurement[]; failed: BackendOutcome['failed'] }> {
  const failed: BackendOutcome['failed'] = [...blocked];
  const measured: Measurement[] = [];
  for (const name of MEASURED) {
    if (blocked.some((b) => b.name === name)) continue;
    try {
      await activateBackend(name);
      const thing = await m.build();
      try {
        measured.push({ ...(await m.time(thing)), name });
      } finally {
        m.dispose(thing);
      }
    } catch (e) {
      failed.push({ name, reason: (e as Error).message || String(e) });
    }
  }
  if (measured.length === 0) return { best: null, measured, failed };
  const best = measured.reduce((a, b) => (b.ms < a.ms ? b : a));
  await activateBackend(best.name);
  // The losers' backends go: a WebGL context and its texture pool are not kept for nothing.
  for (const r of measured) {
    if (r.name === best.name) continue;
    try {
      tf.removeBackend(r.name);
    } catch {
      // already gone
    }
  }
  return { best, measured, failed };
}

/** Median time of a few calls of `run` after a first, warm-up call. */
export async function timeCalls(run: (i: number) => Promise<unknown>): Promise<Omit<Measurement, 'name'>> {
  let t = performance.now();
  await run(-1);
  const warmupMs = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < TIMED_DECODES; i++) {
    t = performance.now();
    await run(i);
    times.push(performance.now() - t);
  }
  return { ms: median(times), warmupMs };
}

/**
 * Starts a backend (forced, or the fastest measured) and builds the decoder
 * on it, warm. Throws only when no backend at all can run the model.
 */
export async function startDecoderHere(
  request: BackendRequest,
  artifacts: io.ModelArtifacts,
  latentDim: number,
  image: ImageShape,
  /** Backends the page already found unusable (a worker may see WebGL where the page does not: the page's word wins). */
  blocked: BackendOutcome['failed'] = [],
): Promise<{ decoder: Decoder; outcome: EngineOutcome }> {
  if (request.forced) {
    const outcome = await startBackend(request, blocked);
    const decoder = await createDecoder(artifacts, latentDim, image);
    const { warmupMs } = await timeDecoder(decoder, latentDim);
    return { decoder, outcome: { ...outcome, measured: [], warmupMs } };
  }
  const { best, measured, failed } = await measureBackends({
    build: () => createDecoder(artifacts, latentDim, image),
    time: (decoder) => timeDecoder(decoder, latentDim),
    dispose: (decoder) => decoder.dispose(),
  }, blocked);
  if (!best) {
    // Neither WebGL nor WebAssembly: plain JavaScript is the last resort.
    const outcome = await startBackend({ forced: 'cpu', problem: null }, failed);
    const decoder = await createDecoder(artifacts, latentDim, image);
    const { warmupMs } = await timeDecoder(decoder, latentDim);
    return { decoder, outcome: { ...outcome, measured, warmupMs } };
  }
  const decoder = await createDecoder(artifacts, latentDim, image);
  // Kernels (and shaders) of this backend are already compiled: this warm-up is short.
  await decoder.decode(new Float32Array(latentDim));
  return { decoder, outcome: { used: best.name, failed, measured, warmupMs: best.warmupMs } };
}
