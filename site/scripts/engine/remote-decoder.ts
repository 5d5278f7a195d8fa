/**
 * The page's side of the decode worker: a LatentDecoder whose decodes run in
 * decode-worker.ts. Where a worker cannot start (no module workers, a blocked
 * script), the same engine runs in the page instead, and says so.
 */
import type { io } from '@tensorflow/tfjs-core';
import type { ImageShape } from '../../../lib/bundle.ts';
import type { SettleStep } from '../../../lib/settle.ts';
import type { LatentPrior } from '../../../lib/prior.ts';
import { engineSentence, recallChoice, rememberChoice, webglProblem, type BackendName, type BackendRequest } from './backend-choice.ts';
import type { FromWorker, ToWorker } from './decode-protocol.ts';
import type { LatentDecoder } from './decoder.ts';
import type { EngineOutcome, MemoryInfo } from './engine-core.ts';
import { toRgba } from './rgba.ts';
import { PriorSampler } from './prior-sampler.ts';
import type { Settler } from './settler.ts';

/** Draws latent points from the bundle's learned prior, and settles them, where the decoder runs (the worker, or the page). */
export interface LatentSampler {
  setPrior(prior: LatentPrior): void;
  /** `count` points, flat; the same seed gives the same points. */
  sample(count: number, temperature: number, seed: number): Promise<Float32Array>;
  /** Hands over the encoder's artifacts (settler.ts builds it on first use). */
  setEncoder(artifacts: io.ModelArtifacts): void;
  /** `trips` encode–decode round trips from `points`, each moving them by `step` (lib/settle.ts); queued with the decodes. */
  settle(points: Float32Array, trips: number, step?: SettleStep): Promise<Float32Array>;
}

export interface DecodeEngine {
  decoder: LatentDecoder;
  outcome: EngineOutcome;
  /** 'worker': decodes run off the main thread; 'page': they share it with input handling. */
  where: 'worker' | 'page';
  /** Why the worker was not used, when it was not. */
  workerProblem: string | null;
  sampler: LatentSampler;
  memory(): Promise<MemoryInfo>;
}

class RemoteDecoder implements LatentDecoder, LatentSampler {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly worker: Worker,
    readonly latentDim: number,
    readonly image: ImageShape,
  ) {
    worker.addEventListener('message', (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      if (msg.type !== 'decoded' && msg.type !== 'failed' && msg.type !== 'memory' && msg.type !== 'sampled' && msg.type !== 'settled') return;
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.type === 'failed') w.reject(new Error(msg.message));
      else w.resolve(msg.type === 'decoded' ? msg : msg.type === 'sampled' || msg.type === 'settled' ? msg.points : msg.memory);
    });
    worker.addEventListener('error', (e) => this.failAll(new Error(`the decode worker stopped (${e.message || 'error'})`)));
  }

  get pixelsPerImage(): number {
    return this.image.height * this.image.width * this.image.channels;
  }

  private call<T>(msg: ToWorker, transfer: Transferable[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.set((msg as { id: number }).id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  private failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  async decode(points: Float32Array): Promise<Float32Array> {
    return (await this.decodeTimed(points)).values;
  }

  /** The values, and the milliseconds the worker spent decoding them. */
  private decodeTimed(points: Float32Array): Promise<Extract<FromWorker, { type: 'decoded' }>> {
    const n = points.length / this.latentDim;
    if (!Number.isInteger(n) || n < 1) return Promise.reject(new Error(`cannot decode ${points.length} numbers as ${this.latentDim}-D points`));
    // A copy goes over (transferred): the caller keeps its array.
    const copy = points.slice();
    return this.call({ type: 'decode', id: this.nextId++, points: copy }, [copy.buffer]);
  }

  async decodeRgba(point: Float32Array, out: Uint8ClampedArray): Promise<number> {
    const { values, ms } = await this.decodeTimed(point);
    toRgba(values, this.image.channels as 1 | 3, out);
    return ms;
  }

  memory(): Promise<MemoryInfo> {
    return this.call<MemoryInfo>({ type: 'memory', id: this.nextId++ });
  }

  setPrior(prior: LatentPrior): void {
    this.worker.postMessage({ type: 'prior', prior } satisfies ToWorker);
  }

  sample(count: number, temperature: number, seed: number): Promise<Float32Array> {
    return this.call<Float32Array>({ type: 'sample', id: this.nextId++, count, temperature, seed });
  }

  setEncoder(artifacts: io.ModelArtifacts): void {
    // Copied, not transferred: the page keeps nothing else of it, but a copy keeps this call free of surprises.
    this.worker.postMessage({ type: 'encoder', artifacts } satisfies ToWorker);
  }

  settle(points: Float32Array, trips: number, step?: SettleStep): Promise<Float32Array> {
    const copy = points.slice();
    return this.call<Float32Array>({ type: 'settle', id: this.nextId++, points: copy, trips, ...(step ? { step } : {}) }, [copy.buffer]);
  }
}

/** The page-thread sampler, for an engine that runs in the page. */
function localSampler(settler: Settler): LatentSampler {
  const sampler = new PriorSampler();
  return {
    setPrior: (prior) => (sampler.prior = prior),
    sample: async (count, temperature, seed) => sampler.sample(count, temperature, seed),
    setEncoder: (artifacts) => settler.setEncoder(artifacts),
    settle: (points, trips, step) => settler.settle(points, trips, step),
  };
}

let early: Worker | null = null;
/** Set when the preloaded worker's script failed before anyone listened (a chunk that did not load). */
let earlyProblem: string | null = null;

function startWorker(): Worker {
  return new Worker(new URL('./decode-worker.ts', import.meta.url), { type: 'module', name: 'latent-atelier-decoder' });
}

/**
 * Starts the worker now, so it fetches and compiles tfjs while the model
 * downloads; the next startDecodeEngine() takes it over.
 */
export function preloadDecodeWorker(search: string = location.search): void {
  if (early || typeof Worker === 'undefined' || new URLSearchParams(search).get('worker') === 'off') return;
  try {
    early = startWorker();
    earlyProblem = null;
    early.addEventListener('error', (e) => (earlyProblem = e.message || 'the worker script could not run'), { once: true });
  } catch {
    early = null;
  }
}

type Blocked = { name: BackendName; reason: string }[];

/** What the page knows does not work here: a browser that gives the page no WebGL should not decode on it in a worker either. */
function pageBlocked(): Blocked {
  const problem = webglProblem();
  return problem ? [{ name: 'webgl', reason: problem }] : [];
}

async function startInWorker(request: BackendRequest, artifacts: io.ModelArtifacts, latentDim: number, image: ImageShape, blocked: Blocked): Promise<DecodeEngine> {
  const worker = early ?? startWorker();
  const failedEarly = early ? earlyProblem : null;
  early = null;
  earlyProblem = null;
  const outcome = await new Promise<EngineOutcome>((resolve, reject) => {
    if (failedEarly) return reject(new Error(failedEarly));
    const onMessage = (e: MessageEvent<FromWorker>) => {
      if (e.data.type === 'started') resolve(e.data.outcome);
      else if (e.data.type === 'start-failed') reject(Object.assign(new Error(e.data.message), { fromEngine: true }));
      else return;
      worker.removeEventListener('message', onMessage);
    };
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', (e) => reject(new Error(e.message || 'the worker script could not run')), { once: true });
    // The weights are copied, not transferred: a retry or the in-page fallback may need them again.
    worker.postMessage({ type: 'start', request, artifacts, latentDim, image, blocked } satisfies ToWorker);
  }).catch((e: unknown) => {
    worker.terminate();
    throw e;
  });
  const decoder = new RemoteDecoder(worker, latentDim, image);
  return { decoder, outcome, where: 'worker', workerProblem: null, sampler: decoder, memory: () => decoder.memory() };
}

async function startInPage(request: BackendRequest, artifacts: io.ModelArtifacts, latentDim: number, image: ImageShape, workerProblem: string, blocked: Blocked): Promise<DecodeEngine> {
  // tfjs is loaded into the page only here, when the engine has to run in it.
  const [{ startDecoderHere, memoryInfo }, { Settler }] = await Promise.all([import('./engine-core.ts'), import('./settler.ts')]);
  const { decoder, outcome } = await startDecoderHere(request, artifacts, latentDim, image, blocked);
  return { decoder, outcome, where: 'page', workerProblem, sampler: localSampler(new Settler(() => decoder)), memory: async () => memoryInfo() };
}

/**
 * Starts the decoder in a worker (or, with ?worker=off or where workers fail,
 * in the page). A model that no backend can run is an error either way.
 */
export async function startDecodeEngine(
  request: BackendRequest,
  artifacts: io.ModelArtifacts,
  latentDim: number,
  image: ImageShape,
  opts: { search?: string; rememberAs?: string } = {},
): Promise<DecodeEngine> {
  const search = opts.search ?? location.search;
  const store = localStore();
  // A choice measured on an earlier visit (same model version) is used as is: no timing, no losing backend's warm-up.
  const recalled = !request.forced && opts.rememberAs ? recallChoice(store, opts.rememberAs) : null;
  const asked: BackendRequest = recalled ? { forced: recalled.used, problem: request.problem } : request;
  const engine = await startEngineSomewhere(asked, artifacts, latentDim, image, search);
  if (recalled && engine.outcome.used === recalled.used) {
    engine.outcome = { ...engine.outcome, measured: recalled.measured, remembered: true };
  } else if (opts.rememberAs && !request.forced) {
    rememberChoice(store, opts.rememberAs, engine.outcome.used, engine.outcome.measured);
  }
  return engine;
}

function localStore(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

async function startEngineSomewhere(request: BackendRequest, artifacts: io.ModelArtifacts, latentDim: number, image: ImageShape, search: string): Promise<DecodeEngine> {
  const blocked = pageBlocked();
  if (new URLSearchParams(search).get('worker') === 'off') return startInPage(request, artifacts, latentDim, image, 'turned off in the address', blocked);
  if (typeof Worker === 'undefined') return startInPage(request, artifacts, latentDim, image, 'this browser has no Web Workers', blocked);
  try {
    return await startInWorker(request, artifacts, latentDim, image, blocked);
  } catch (e) {
    if ((e as { fromEngine?: boolean }).fromEngine) throw e;
    return startInPage(request, artifacts, latentDim, image, (e as Error).message || String(e), blocked);
  }
}

/** The status line for a started engine, and whether it is a fallback (a backend that should have worked did not). */
export function engineStatus(engine: DecodeEngine, request: BackendRequest): { text: string; state: 'ready' | 'fallback' } {
  const o = engine.outcome;
  const text = `${engineSentence({ ...o, where: engine.where, workerProblem: engine.workerProblem }, request)}${request.problem ? ` ${request.problem}` : ''}`;
  return { text, state: o.failed.length > 0 && request.forced !== o.used ? 'fallback' : 'ready' };
}

/** Where an engine runs and what it measured, for the pages' test hooks. */
export function engineFacts(engine: DecodeEngine | null): { where: 'worker' | 'page' | null; measured: { name: BackendName; ms: number }[] } {
  return { where: engine?.where ?? null, measured: engine ? engine.outcome.measured.map(({ name, ms }) => ({ name, ms })) : [] };
}
