/**
 * A latent diffusion prior: a small MLP that predicts the noise in a noised
 * latent code (DDPM, cosine schedule), sampled with deterministic DDIM steps.
 * The codes are standardised per dimension before training, so the network
 * sees unit-scale data. Temperature scales the starting noise: 1 samples the
 * density as trained, 0 starts from the centre and lands on one typical face.
 *
 * The network: [x (d), time features (E)] → H → H → H → d, SiLU between.
 * Plain loops, no tfjs: the same code runs in the decode worker and in Node.
 */

export interface DenseLayer {
  inputs: number;
  outputs: number;
  /** inputs × outputs, row-major (input i, output o at i * outputs + o). */
  kernel: Float32Array;
  bias: Float32Array;
}

export interface DiffusionPrior {
  kind: 'diffusion';
  latentDim: number;
  /** Per-dimension mean and standard deviation of the training codes. */
  mean: Float32Array;
  std: Float32Array;
  layers: DenseLayer[];
  /** Number of sinusoidal time features (even). */
  timeFeatures: number;
  /** Noise levels the network was trained on (t = 1..trainSteps). */
  trainSteps: number;
  /** DDIM steps taken when sampling. */
  sampleSteps: number;
}

const COSINE_OFFSET = 0.008;

/** ᾱ(t) of the cosine schedule (Nichol & Dhariwal), t in 0..T; ᾱ(0) = 1. */
export function alphaBar(t: number, T: number): number {
  const f = (s: number) => Math.cos(((s / T + COSINE_OFFSET) / (1 + COSINE_OFFSET)) * (Math.PI / 2)) ** 2;
  return Math.min(1, Math.max(1e-5, f(t) / f(0)));
}

/** Sinusoidal features of the step t (transformer-style), written into out[offset..offset+E). */
export function timeFeatures(t: number, E: number, out: Float32Array | Float64Array, offset = 0): void {
  const half = E / 2;
  for (let i = 0; i < half; i++) {
    const w = t * Math.exp((-Math.log(10000) * i) / half);
    out[offset + i] = Math.sin(w);
    out[offset + half + i] = Math.cos(w);
  }
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** One dense layer: out = act(in · W + b). */
function dense(layer: DenseLayer, input: Float64Array, out: Float64Array, activate: boolean): void {
  const { inputs, outputs, kernel, bias } = layer;
  for (let o = 0; o < outputs; o++) out[o] = bias[o]!;
  for (let i = 0; i < inputs; i++) {
    const v = input[i]!;
    if (v === 0) continue;
    const row = i * outputs;
    for (let o = 0; o < outputs; o++) out[o] = out[o]! + v * kernel[row + o]!;
  }
  if (activate) for (let o = 0; o < outputs; o++) out[o] = silu(out[o]!);
}

/** The network's noise estimate for x (standardised, length d) at step t. */
export function predictNoise(prior: DiffusionPrior, x: ArrayLike<number>, t: number): Float64Array {
  const d = prior.latentDim;
  let h = new Float64Array(d + prior.timeFeatures);
  for (let i = 0; i < d; i++) h[i] = x[i]!;
  timeFeatures(t, prior.timeFeatures, h, d);
  prior.layers.forEach((layer, k) => {
    const out = new Float64Array(layer.outputs);
    dense(layer, h, out, k < prior.layers.length - 1);
    h = out;
  });
  return h;
}

/** The DDIM time steps from trainSteps down to 1, `steps` of them. */
export function ddimSchedule(trainSteps: number, steps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(Math.round(trainSteps - (i * (trainSteps - 1)) / Math.max(1, steps - 1)));
  return out;
}

/** `count` codes, flat [count × d]; each takes d uniform numbers (d rounded up to even) from `normal`. */
export function sampleDiffusion(prior: DiffusionPrior, count: number, temperature: number, normal: (out: Float64Array) => void): Float32Array {
  const d = prior.latentDim;
  const out = new Float32Array(count * d);
  const schedule = ddimSchedule(prior.trainSteps, prior.sampleSteps);
  const x = new Float64Array(d);
  const x0 = new Float64Array(d);
  for (let n = 0; n < count; n++) {
    normal(x);
    for (let i = 0; i < d; i++) x[i] = x[i]! * temperature;
    schedule.forEach((t, k) => {
      const a = alphaBar(t, prior.trainSteps);
      const aPrev = k + 1 < schedule.length ? alphaBar(schedule[k + 1]!, prior.trainSteps) : 1;
      const eps = predictNoise(prior, x, t);
      for (let i = 0; i < d; i++) {
        x0[i] = Math.max(-6, Math.min(6, (x[i]! - Math.sqrt(1 - a) * eps[i]!) / Math.sqrt(a)));
        x[i] = Math.sqrt(aPrev) * x0[i]! + Math.sqrt(1 - aPrev) * eps[i]!;
      }
    });
    for (let i = 0; i < d; i++) out[n * d + i] = prior.mean[i]! + prior.std[i]! * x0[i]!;
  }
  return out;
}
