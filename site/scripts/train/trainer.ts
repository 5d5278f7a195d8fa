/**
 * The digits VAE training in the browser: the model, loss and step are the
 * ones Node training uses (lib/vae-model.ts, lib/vae-step.ts), fed from the
 * shipped MNIST subset in the same seeded batch order (lib/random.ts), so a
 * step here gives the loss the same step gives in `npm run train`.
 * Runtime-neutral apart from tfjs: the worker drives it, and a Node test
 * runs it against training/train.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DigitSet } from '../../../lib/digit-set.ts';
import { digitBatch } from '../../../lib/digit-set.ts';
import { shuffledIndices } from '../../../lib/random.ts';
import { buildVae, DIGITS_ARCHITECTURE, type VaeModels } from '../../../lib/vae-model.ts';
import { evaluateElbo, stepSeed, trainableVariables, trainStep, warmedBeta } from '../../../lib/vae-step.ts';
import type { TrainConfig } from './protocol.ts';

export const LATENT_DIM = 2;

export interface StepLosses {
  loss: number;
  reconstruction: number;
  kl: number;
}

export class BrowserTrainer {
  readonly models: VaeModels;
  private readonly optimizer: tf.Optimizer;
  private readonly vars: tf.Variable[];
  private order: Int32Array;
  private readonly batch: Float32Array;
  /** Whole epochs done, and batches done in the current one. */
  epoch = 0;
  stepInEpoch = 0;
  /** Steps done since the start. */
  steps = 0;
  beta: number;

  constructor(
    private readonly data: DigitSet,
    readonly config: TrainConfig,
  ) {
    this.models = buildVae({ height: data.height, width: data.width, channels: 1 }, LATENT_DIM, DIGITS_ARCHITECTURE, config.seed);
    this.optimizer = tf.train.adam(config.learningRate);
    this.vars = trainableVariables(this.models);
    this.beta = config.beta;
    this.order = shuffledIndices(data.train.count, stepSeed(config.seed, 0, -1));
    this.batch = new Float32Array(config.batchSize * data.height * data.width);
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.data.train.count / this.config.batchSize);
  }

  /** Images the whole run will have seen after its last epoch. */
  get totalImages(): number {
    return this.config.epochs * this.data.train.count;
  }

  get imagesSeen(): number {
    const inEpoch = Math.min(this.stepInEpoch * this.config.batchSize, this.data.train.count);
    return this.epoch * this.data.train.count + inEpoch;
  }

  /** The KL weight the next step uses: beta, or less during the warm-up. */
  get klWeight(): number {
    return warmedBeta(this.beta, this.steps, this.config.warmupEpochs * this.batchesPerEpoch);
  }

  get finished(): boolean {
    return this.epoch >= this.config.epochs;
  }

  /** One optimiser step on the next batch of the seeded epoch order; the last batch of an epoch may be smaller. */
  step(): StepLosses {
    const n = this.data.train.count;
    const start = this.stepInEpoch * this.config.batchSize;
    const indices = this.order.subarray(start, Math.min(start + this.config.batchSize, n));
    const size = indices.length;
    const x = digitBatch(this.data.train, indices, size === this.config.batchSize ? this.batch : undefined);
    const noiseSeed = stepSeed(this.config.seed, this.epoch, this.stepInEpoch);
    const [loss, reconstruction, kl] = trainStep(this.models, this.optimizer, this.vars, { x, size, noiseSeed, beta: this.klWeight, latentDim: LATENT_DIM });
    this.steps++;
    this.stepInEpoch++;
    if (this.stepInEpoch >= this.batchesPerEpoch) this.nextEpoch();
    return { loss, reconstruction, kl };
  }

  private nextEpoch(): void {
    this.epoch++;
    this.stepInEpoch = 0;
    this.order = shuffledIndices(this.data.train.count, stepSeed(this.config.seed, this.epoch, -1));
  }

  /** The encoder's means of the first `limit` test images, [n][2] flattened. */
  latentMeans(limit = this.data.test.count, chunk = 500): Float32Array {
    const n = Math.min(limit, this.data.test.count);
    const out = new Float32Array(n * LATENT_DIM);
    for (let start = 0; start < n; start += chunk) {
      const size = Math.min(chunk, n - start);
      const idx = Int32Array.from({ length: size }, (_, i) => start + i);
      const means = tf.tidy(() => {
        const x = tf.tensor4d(digitBatch(this.data.test, idx), [size, this.data.height, this.data.width, 1]);
        const [mean] = this.models.encoder.predict(x) as tf.Tensor[];
        return mean!.dataSync() as Float32Array;
      });
      out.set(means, start * LATENT_DIM);
    }
    return out;
  }

  /** Decoded digits on a size x size grid over [-extent, extent]^2, top row at z2 = +extent. */
  decodeGrid(size: number, extent: number): Float32Array {
    return tf.tidy(() => {
      const pts = new Float32Array(size * size * 2);
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          const k = (r * size + c) * 2;
          pts[k] = size === 1 ? 0 : -extent + (2 * extent * c) / (size - 1);
          pts[k + 1] = size === 1 ? 0 : extent - (2 * extent * r) / (size - 1);
        }
      }
      const out = this.models.decoder.predict(tf.tensor2d(pts, [size * size, 2])) as tf.Tensor;
      return out.dataSync() as Float32Array;
    });
  }

  /** Mean reconstruction, KL and negative ELBO (beta = 1) over the test images, with fixed noise: the figures Node's training reports. */
  evaluateTest(chunk = 500): StepLosses & { negElbo: number } {
    const t = evaluateElbo(this.models, (idx) => digitBatch(this.data.test, idx), this.data.test.count, LATENT_DIM, chunk);
    return { negElbo: t.negElbo, loss: t.negElbo, reconstruction: t.reconstruction, kl: t.kl };
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const m of [this.models.encoder, this.models.decoder]) m.dispose();
  }
}
