/**
 * The learned latent prior: a density over a model's latent space, fitted at
 * build time to where the encoder really puts the training faces, and sampled
 * by the site (in the decode worker) and by Node (`npm run sample`).
 *
 * Why: a VAE trained with a small KL weight (β) does not fill N(0, I); most
 * standard-normal points land between the faces the decoder knows. Sampling
 * the fitted density instead keeps "New face" on the manifold.
 *
 * The shipped density is a Gaussian mixture with full covariances:
 *   p(z) = Σ_k w_k N(z; μ_k, L_k L_kᵀ).
 * Temperature T scales each component's spread: z = μ_k + T · L_k ε with
 * k ~ w and ε ~ N(0, I). T = 1 is the density as fitted; T = 0 gives the
 * component means (the modes of the mixture's parts, its most typical faces).
 *
 * The other kind the build can ship is a latent diffusion model
 * (lib/prior-diffusion.ts); the build measures both and ships the better.
 *
 * File format (prior.json, named by the manifest's "prior"):
 *   { format: 1, kind: "gmm", latentDim, components, weights: [K numbers],
 *     data: "prior.bin", dtype: "float16" | "float32", ... }
 * prior.bin holds, little-endian, the K means (K × d) and then the K lower
 * Cholesky factors packed row by row (K × d(d+1)/2).
 *   { format: 1, kind: "diffusion", latentDim, layers: [[in, out], ...],
 *     timeFeatures, trainSteps, sampleSteps, data, dtype, ... }
 * prior.bin then holds the codes' mean (d) and standard deviation (d), then
 * each layer's kernel (in × out, row-major) and bias (out).
 * Either kind may carry "settle": the encode–decode round trips
 * (lib/settle.ts) the studio runs on each sample by default.
 */
import { decodeHalf, encodeHalf } from './float16.ts';
import { sampleDiffusion, type DiffusionPrior } from './prior-diffusion.ts';
import { MAX_SETTLE_TRIPS, parseSettleStep, settleStepToJson, type SettleStep, type SettleStepJson } from './settle.ts';

export type { DiffusionPrior } from './prior-diffusion.ts';

export const PRIOR_FORMAT = 1;

export interface GaussianMixturePrior {
  kind: 'gmm';
  latentDim: number;
  /** Mixing weights, summing to 1. */
  weights: Float64Array;
  /** K × d component means, row-major. */
  means: Float32Array;
  /** K lower-triangular Cholesky factors of the covariances, each packed row by row (d(d+1)/2 values). */
  chol: Float32Array;
}

/**
 * `settle`: the encode–decode round trips (lib/settle.ts) the studio runs on
 * each sample by default, chosen by the build's measurement; absent or 0: none.
 * `settleStep`: how each of those trips moves a point (lib/settle.ts's
 * SettleStep: the build's correction and relaxation); absent: plain trips.
 */
export type LatentPrior = (GaussianMixturePrior | DiffusionPrior) & { settle?: number; settleStep?: SettleStep };

/** What prior.json holds besides the binary data. */
export interface PriorFile {
  format: number;
  kind: 'gmm' | 'diffusion';
  latentDim: number;
  /** gmm: the number of components and their weights. */
  components?: number;
  weights?: number[];
  /** diffusion: [inputs, outputs] of each dense layer, and the sampler's settings. */
  layers?: [number, number][];
  timeFeatures?: number;
  trainSteps?: number;
  sampleSteps?: number;
  /** Encode–decode round trips the studio runs on each sample by default (lib/settle.ts); absent: none. */
  settle?: number;
  /** How each round trip moves a point (lib/settle.ts); absent: plain round trips z ← E(D(z)). */
  settleStep?: SettleStepJson;
  data: string;
  dtype: 'float16' | 'float32';
  /** How it was fitted (free-form, for people): data, iterations, log-likelihoods. */
  fitted?: Record<string, unknown>;
}

export class PriorError extends Error {
  constructor(where: string, problem: string) {
    super(`${where}: ${problem}`);
    this.name = 'PriorError';
  }
}

/** Number of values in one packed lower triangle of a d × d matrix. */
export function packedSize(d: number): number {
  return (d * (d + 1)) / 2;
}

/** Standard normal numbers from uniform ones (Box-Muller, both outputs used). */
export function fillNormal(out: Float64Array | Float32Array, random: () => number): void {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - random();
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
}

/** Index drawn from `weights` (which sum to 1) with the uniform number u in [0, 1). */
export function pickComponent(weights: ArrayLike<number>, u: number): number {
  let acc = 0;
  for (let k = 0; k < weights.length; k++) {
    acc += weights[k]!;
    if (u < acc) return k;
  }
  return weights.length - 1;
}

/**
 * `count` points from the prior at `temperature`, flat [count × d].
 * Each point takes exactly d + 1 uniform numbers (d rounded up to even), so
 * a seeded `random` reproduces the same points everywhere.
 */
export function samplePrior(prior: LatentPrior, count: number, temperature: number, random: () => number): Float32Array {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a whole number >= 0, got ${count}`);
  if (!Number.isFinite(temperature) || temperature < 0) throw new RangeError(`temperature must be a number >= 0, got ${temperature}`);
  if (prior.kind === 'diffusion') return sampleDiffusion(prior, count, temperature, (out) => fillNormal(out, random));
  const d = prior.latentDim;
  const tri = packedSize(d);
  const out = new Float32Array(count * d);
  const eps = new Float64Array(d);
  for (let n = 0; n < count; n++) {
    const k = pickComponent(prior.weights, random());
    fillNormal(eps, random);
    const mu = k * d;
    const L = k * tri;
    for (let i = 0, row = L; i < d; row += ++i) {
      let s = 0;
      for (let j = 0; j <= i; j++) s += prior.chol[row + j]! * eps[j]!;
      out[n * d + i] = prior.means[mu + i]! + temperature * s;
    }
  }
  return out;
}

/**
 * log N(z; μ_k, L_k L_kᵀ) for one point and one component: solve L y = z - μ
 * by forward substitution; log density = -½|y|² - Σ log L_ii - (d/2) log 2π.
 */
export function componentLogDensity(prior: GaussianMixturePrior, k: number, z: ArrayLike<number>, scratch = new Float64Array(prior.latentDim)): number {
  const d = prior.latentDim;
  const L = k * packedSize(d);
  let quad = 0;
  let logDet = 0;
  for (let i = 0, row = L; i < d; row += ++i) {
    let s = z[i]! - prior.means[k * d + i]!;
    for (let j = 0; j < i; j++) s -= prior.chol[row + j]! * scratch[j]!;
    const diag = prior.chol[row + i]!;
    scratch[i] = s / diag;
    quad += scratch[i]! * scratch[i]!;
    logDet += Math.log(diag);
  }
  return -0.5 * quad - logDet - 0.5 * d * Math.log(2 * Math.PI);
}

/** log p(z) under the whole mixture (log-sum-exp over components). */
export function priorLogDensity(prior: GaussianMixturePrior, z: ArrayLike<number>): number {
  const K = prior.weights.length;
  const scratch = new Float64Array(prior.latentDim);
  const terms = new Float64Array(K);
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    terms[k] = Math.log(prior.weights[k]!) + componentLogDensity(prior, k, z, scratch);
    if (terms[k]! > max) max = terms[k]!;
  }
  let sum = 0;
  for (let k = 0; k < K; k++) sum += Math.exp(terms[k]! - max);
  return max + Math.log(sum);
}

/** The JSON part and the binary part of a prior, ready to write beside a manifest. */
export function encodePrior(prior: LatentPrior, opts: { dtype?: 'float16' | 'float32'; data?: string; fitted?: Record<string, unknown> } = {}): { json: PriorFile; bin: Uint8Array } {
  const dtype = opts.dtype ?? 'float16';
  const parts = prior.kind === 'gmm' ? [prior.means, prior.chol] : [prior.mean, prior.std, ...prior.layers.flatMap((l) => [l.kernel, l.bias])];
  const values = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((o, p) => (values.set(p, o), o + p.length), 0);
  const bin = dtype === 'float16' ? encodeHalf(values) : new Uint8Array(values.buffer.slice(0));
  const shape: Partial<PriorFile> = prior.kind === 'gmm'
    ? { components: prior.weights.length, weights: Array.from(prior.weights) }
    : { layers: prior.layers.map((l) => [l.inputs, l.outputs]), timeFeatures: prior.timeFeatures, trainSteps: prior.trainSteps, sampleSteps: prior.sampleSteps };
  const json: PriorFile = {
    format: PRIOR_FORMAT,
    kind: prior.kind,
    latentDim: prior.latentDim,
    ...shape,
    ...(prior.settle ? { settle: prior.settle } : {}),
    ...(prior.settle && prior.settleStep ? { settleStep: settleStepToJson(prior.settleStep) } : {}),
    data: opts.data ?? 'prior.bin',
    dtype,
    ...(opts.fitted ? { fitted: opts.fitted } : {}),
  };
  return { json, bin };
}

type Json = Record<string, unknown>;

function check(ok: boolean, where: string, problem: string): void {
  if (!ok) throw new PriorError(where, problem);
}

/** Checks prior.json; returns it typed. `latentDim` is the manifest's. */
export function parsePriorFile(json: unknown, latentDim: number, where = 'prior.json'): PriorFile {
  check(typeof json === 'object' && json !== null && !Array.isArray(json), where, 'must be a JSON object');
  const o = json as Json;
  check(o.format === PRIOR_FORMAT, where, `prior format ${JSON.stringify(o.format)} is not supported (this code reads format ${PRIOR_FORMAT})`);
  check(o.kind === 'gmm' || o.kind === 'diffusion', where, `prior kind ${JSON.stringify(o.kind)} is not supported (this code reads "gmm" and "diffusion")`);
  check(o.latentDim === latentDim, where, `"latentDim" is ${JSON.stringify(o.latentDim)} but the model's latent space has ${latentDim} dimensions`);
  check(o.dtype === 'float16' || o.dtype === 'float32', where, '"dtype" must be "float16" or "float32"');
  const data = o.data;
  check(typeof data === 'string' && data.length > 0 && !data.startsWith('/') && !data.split('/').includes('..') && !/^[a-z]+:/i.test(data), where, '"data" must be a relative path inside the bundle');
  check(o.settle === undefined || (Number.isInteger(o.settle) && (o.settle as number) >= 0 && (o.settle as number) <= MAX_SETTLE_TRIPS), where, `"settle" must be a whole number of round trips from 0 to ${MAX_SETTLE_TRIPS}`);
  if (o.settleStep !== undefined) {
    try {
      parseSettleStep(o.settleStep, latentDim);
    } catch (e) {
      throw new PriorError(where, (e as Error).message);
    }
  }
  if (o.kind === 'diffusion') return parseDiffusionFile(o, latentDim, where);
  const K = o.components;
  check(Number.isInteger(K) && (K as number) > 0 && (K as number) <= 4096, where, '"components" must be a whole number from 1 to 4096');
  const w = o.weights;
  check(Array.isArray(w) && w.length === K && w.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0), where, `"weights" must be ${K} numbers >= 0`);
  const total = (w as number[]).reduce((a, b) => a + b, 0);
  check(Math.abs(total - 1) < 1e-3, where, `"weights" must sum to 1, they sum to ${total}`);
  return o as unknown as PriorFile;
}

function parseDiffusionFile(o: Json, d: number, where: string): PriorFile {
  const layers = o.layers;
  const pair = (l: unknown) => Array.isArray(l) && l.length === 2 && l.every((n) => Number.isInteger(n) && n > 0 && n <= 4096);
  check(Array.isArray(layers) && layers.length >= 1 && layers.length <= 16 && layers.every(pair), where, '"layers" must list 1 to 16 [inputs, outputs] pairs');
  const L = layers as [number, number][];
  const E = o.timeFeatures;
  check(Number.isInteger(E) && (E as number) >= 2 && (E as number) % 2 === 0, where, '"timeFeatures" must be an even whole number >= 2');
  check(L[0]![0] === d + (E as number) && L.at(-1)![1] === d && L.every((l, i) => i === 0 || l[0] === L[i - 1]![1]), where, `"layers" must run from ${d} + timeFeatures inputs to ${d} outputs, each layer taking the last one's outputs`);
  for (const key of ['trainSteps', 'sampleSteps']) check(Number.isInteger(o[key]) && (o[key] as number) >= 1 && (o[key] as number) <= 100000, where, `"${key}" must be a whole number from 1 to 100000`);
  return o as unknown as PriorFile;
}

function valueCount(file: PriorFile): number {
  const d = file.latentDim;
  if (file.kind === 'diffusion') return 2 * d + file.layers!.reduce((n, [i, o]) => n + i * o + o, 0);
  return file.components! * (d + packedSize(d));
}

/** Builds the sampler from a checked prior.json and the bytes of its data file. */
export function decodePrior(file: PriorFile, bytes: Uint8Array, where = file.data): LatentPrior {
  const d = file.latentDim;
  const expected = valueCount(file);
  const width = file.dtype === 'float16' ? 2 : 4;
  const what = file.kind === 'gmm' ? `${file.components} components of ${d} dimensions` : `a ${file.layers!.length}-layer denoiser over ${d} dimensions`;
  check(bytes.length === expected * width, where, `has ${bytes.length} bytes, expected ${expected * width} (${what} as ${file.dtype}); the file is truncated or belongs to another prior`);
  const values = file.dtype === 'float16' ? decodeHalf(bytes) : new Float32Array(bytes.slice().buffer);
  check(values.every(Number.isFinite), where, 'holds values that are not finite numbers');
  const settle = file.settle ? { settle: file.settle, ...(file.settleStep ? { settleStep: parseSettleStep(file.settleStep, d) } : {}) } : {};
  if (file.kind === 'diffusion') return { ...decodeDiffusion(file, values, where), ...settle };
  const K = file.components!;
  const means = values.slice(0, K * d);
  const chol = values.slice(K * d);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < d; i++) check(chol[k * packedSize(d) + packedSize(i + 1) - 1]! > 0, where, `component ${k} has a Cholesky factor with a diagonal entry <= 0`);
  }
  const weights = file.weights!;
  const sum = weights.reduce((a, b) => a + b, 0);
  return { kind: 'gmm', latentDim: d, weights: Float64Array.from(weights, (x) => x / sum), means, chol, ...settle };
}

function decodeDiffusion(file: PriorFile, values: Float32Array, where: string): DiffusionPrior {
  const d = file.latentDim;
  let o = 0;
  const take = (n: number) => values.slice(o, (o += n));
  const mean = take(d);
  const std = take(d);
  check(std.every((s) => s > 0), where, 'has a standard deviation <= 0');
  const layers = file.layers!.map(([inputs, outputs]) => ({ inputs, outputs, kernel: take(inputs * outputs), bias: take(outputs) }));
  return { kind: 'diffusion', latentDim: d, mean, std, layers, timeFeatures: file.timeFeatures!, trainSteps: file.trainSteps!, sampleSteps: file.sampleSteps! };
}

/** In words, for the page and the model card: "a mixture of 40 Gaussians" or "a latent diffusion model (25 steps)". */
export function describePrior(prior: LatentPrior): string {
  return prior.kind === 'gmm' ? `a mixture of ${prior.weights.length} Gaussians` : `a small diffusion model (${prior.sampleSteps} denoising steps)`;
}
