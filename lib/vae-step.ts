/**
 * One training step of the VAE, shared by Node training (training/train.ts)
 * and the browser's training worker (site/scripts/train/): the batch's noise
 * is drawn from a seed that depends only on the run's seed and the position,
 * so the same weights, batch and position give the same loss in both.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossTriple } from './bundle.ts';
import { elboTerms, vaeLoss, type VaeModels } from './vae-model.ts';

/** Deterministic per-step seed for the reparameterisation noise (step -1 seeds an epoch's shuffle). */
export function stepSeed(seed: number, epoch: number, step: number): number {
  let h = (seed * 2654435761) ^ (epoch * 40503) ^ (step * 2246822519);
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The core variables the optimiser updates, each once (encoder and decoder share none, but be safe). */
export function trainableVariables(models: VaeModels): tf.Variable[] {
  const seen = new Set<string>();
  const vars: tf.Variable[] = [];
  for (const w of [...models.encoder.trainableWeights, ...models.decoder.trainableWeights]) {
    // LayerVariable wraps a core Variable; minimize() needs the core ones.
    const v = (w as unknown as { val: tf.Variable }).val;
    if (!seen.has(v.name)) {
      seen.add(v.name);
      vars.push(v);
    }
  }
  return vars;
}

/** The image shape [h, w, c] the encoder takes. */
export function imageShapeOf(models: VaeModels): [number, number, number] {
  const s = models.encoder.inputs[0]!.shape;
  return [s[1]!, s[2]!, s[3]!];
}

export interface StepInput {
  /** The batch's pixels in [0, 1], size * h * w * c values. */
  x: Float32Array;
  size: number;
  /** The seed of this step's reparameterisation noise (stepSeed). */
  noiseSeed: number;
  beta: number;
  latentDim: number;
}

/** One optimiser step on one batch; returns its loss, reconstruction and KL (means per image). */
export function trainStep(models: VaeModels, optimizer: tf.Optimizer, vars: tf.Variable[], input: StepInput): [number, number, number] {
  return tf.tidy(() => {
    const x = tf.tensor4d(input.x, [input.size, ...imageShapeOf(models)]);
    const eps = tf.randomNormal([input.size, input.latentDim], 0, 1, 'float32', input.noiseSeed) as tf.Tensor2D;
    let rec: tf.Scalar | null = null;
    let kl: tf.Scalar | null = null;
    const loss = optimizer.minimize(() => {
      const p = vaeLoss(models, x, eps, input.beta, true);
      rec = tf.keep(p.reconstruction);
      kl = tf.keep(p.kl);
      return p.loss;
    }, true, vars)!;
    const values = [loss, rec!, kl!].map((t) => t.dataSync()[0]!) as [number, number, number];
    // Kept tensors outlive the tidy: free them here, or every step leaks two.
    tf.dispose([rec!, kl!]);
    return values;
  });
}

/**
 * Mean reconstruction, KL and negative ELBO (beta = 1) per image over images
 * 0 to count - 1, which `read` returns (pixels in [0, 1]) for a batch of
 * indices. Each batch's noise has a fixed seed, so two evaluations of one
 * model agree, in Node and in the browser alike.
 */
export function evaluateElbo(models: VaeModels, read: (indices: Int32Array) => Float32Array, count: number, latentDim: number, batchSize = 500): LossTriple {
  let rec = 0;
  let kl = 0;
  for (let start = 0; start < count; start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const idx = Int32Array.from({ length: size }, (_, i) => start + i);
    const [r, k] = tf.tidy(() => {
      const x = tf.tensor4d(read(idx), [size, ...imageShapeOf(models)]);
      const eps = tf.randomNormal([size, latentDim], 0, 1, 'float32', 1234 + start) as tf.Tensor2D;
      const t = elboTerms(models, x, eps, false);
      return [tf.sum(t.reconstruction).dataSync()[0]!, tf.sum(t.kl).dataSync()[0]!];
    });
    rec += r;
    kl += k;
  }
  return { negElbo: (rec + kl) / count, reconstruction: rec / count, kl: kl / count };
}

/**
 * The KL weight at a step of a run that warms it up: rising linearly from 0
 * to `beta` over the first `warmupSteps` steps (0: no warm-up). Starting with
 * little KL pressure lets the encoder spread the codes over both latent
 * dimensions before the prior pulls them in; without it a 2-D model on a
 * short run often uses one dimension or none (Bowman et al. 2016, "Generating
 * sentences from a continuous space", the same remedy for the same collapse).
 */
export function warmedBeta(beta: number, step: number, warmupSteps: number): number {
  return warmupSteps > 0 ? beta * Math.min(1, step / warmupSteps) : beta;
}
