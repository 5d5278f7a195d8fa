/**
 * Trains the latent diffusion prior (lib/prior-diffusion.ts) on encoder means:
 * standardise the codes, then teach a small MLP to predict the noise mixed
 * into them at a random step of the cosine schedule (the DDPM "simple" loss,
 * mean squared error on the noise). The trained weights are read back into
 * the plain-array form the site samples with.
 */
import * as tf from '@tensorflow/tfjs';
import { alphaBar, timeFeatures, type DenseLayer, type DiffusionPrior } from '../lib/prior-diffusion.ts';
import { fillNormal } from '../lib/prior.ts';
import { mulberry32 } from '../lib/random.ts';
import { ProgressBar } from './progress.ts';

export interface DiffusionOptions {
  hidden: number;
  depth: number;
  timeFeatures: number;
  trainSteps: number;
  sampleSteps: number;
  steps: number;
  batch: number;
  learningRate: number;
  seed: number;
  log?: boolean;
}

export const DIFFUSION_DEFAULTS: DiffusionOptions = { hidden: 256, depth: 3, timeFeatures: 32, trainSteps: 1000, sampleSteps: 25, steps: 12000, batch: 256, learningRate: 1e-3, seed: 1 };

function standardise(points: ArrayLike<number>, d: number): { x: Float32Array; mean: Float32Array; std: Float32Array } {
  const n = points.length / d;
  const mean = new Float32Array(d);
  const std = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += points[i * d + j]!;
    const m = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (points[i * d + j]! - m) ** 2;
    mean[j] = m;
    std[j] = Math.sqrt(v / n) || 1;
  }
  const x = Float32Array.from(points, (v, k) => (v - mean[k % d]!) / std[k % d]!);
  return { x, mean, std };
}

/** Trains on n codes of dimension d (flat); returns the prior ready to sample and its last losses. */
export function fitDiffusionPrior(points: ArrayLike<number>, d: number, options: Partial<DiffusionOptions> = {}): { prior: DiffusionPrior; loss: number } {
  const o = { ...DIFFUSION_DEFAULTS, ...options };
  const n = points.length / d;
  const { x, mean, std } = standardise(points, d);
  const sizes = [d + o.timeFeatures, ...Array<number>(o.depth).fill(o.hidden), d];
  const init = tf.initializers.heNormal({ seed: o.seed });
  const weights = sizes.slice(1).map((out, i) => ({
    w: tf.variable(tf.mul(init.apply([sizes[i]!, out]) as tf.Tensor, i === sizes.length - 2 ? 0.1 : 1) as tf.Tensor2D),
    b: tf.variable(tf.zeros([out]) as tf.Tensor1D),
  }));
  const net = (input: tf.Tensor2D) => weights.reduce<tf.Tensor2D>((h, { w, b }, i) => {
    const z = tf.add(tf.matMul(h, w), b) as tf.Tensor2D;
    return i < weights.length - 1 ? (tf.mul(z, tf.sigmoid(z)) as tf.Tensor2D) : z;
  }, input);
  const optimizer = tf.train.adam(o.learningRate);
  const random = mulberry32(o.seed);
  const B = o.batch;
  const input = new Float32Array(B * (d + o.timeFeatures));
  const noise = new Float32Array(B * d);
  const eps = new Float64Array(d);
  const feats = new Float64Array(o.timeFeatures);
  const bar = o.log ? new ProgressBar({ total: o.steps, label: 'latent diffusion prior', unit: 'step' }) : null;
  let ema = NaN;
  for (let step = 0; step < o.steps; step++) {
    for (let b = 0; b < B; b++) {
      const i = Math.floor(random() * n);
      const t = 1 + Math.floor(random() * o.trainSteps);
      const a = alphaBar(t, o.trainSteps);
      fillNormal(eps, random);
      timeFeatures(t, o.timeFeatures, feats);
      const row = b * (d + o.timeFeatures);
      for (let j = 0; j < d; j++) {
        input[row + j] = Math.sqrt(a) * x[i * d + j]! + Math.sqrt(1 - a) * eps[j]!;
        noise[b * d + j] = eps[j]!;
      }
      input.set(feats, row + d);
    }
    const lr = o.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / o.steps));
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    const loss = tf.tidy(() => {
      const xin = tf.tensor2d(input, [B, d + o.timeFeatures]);
      const target = tf.tensor2d(noise, [B, d]);
      return optimizer.minimize(() => tf.losses.meanSquaredError(target, net(xin)) as tf.Scalar, true)!.dataSync()[0]!;
    });
    ema = Number.isNaN(ema) ? loss : 0.99 * ema + 0.01 * loss;
    if (step % 50 === 0 || step === o.steps - 1) bar?.update(step + 1, `loss ${ema.toFixed(4)}`);
  }
  bar?.finish();
  const layers: DenseLayer[] = weights.map(({ w, b }, i) => ({
    inputs: sizes[i]!,
    outputs: sizes[i + 1]!,
    kernel: Float32Array.from(w.dataSync()),
    bias: Float32Array.from(b.dataSync()),
  }));
  weights.forEach(({ w, b }) => (w.dispose(), b.dispose()));
  optimizer.dispose();
  return {
    prior: { kind: 'diffusion', latentDim: d, mean, std, layers, timeFeatures: o.timeFeatures, trainSteps: o.trainSteps, sampleSteps: o.sampleSteps },
    loss: ema,
  };
}
