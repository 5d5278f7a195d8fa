/**
 * Fits the network of lib/edit-net.ts to counterfactual pairs: from a face's
 * code to its exact move for one attribute (training/counterfactual-pairs.ts).
 * One hidden ReLU layer is enough: on the faces model it predicts held-out
 * exact moves for Narrow_Eyes with R² ≈ 0.97, and the judge sees the edit on
 * as many faces as with the exact moves (docs/models.md). The weights are
 * rounded to float16 before anything is measured, so what is calibrated and
 * judged is what the bundle holds.
 */
import * as tf from '@tensorflow/tfjs';
import { toBase64Url } from '../lib/base64url.ts';
import { decodeNet, netMove, type EditNet, type EditNetFile } from '../lib/edit-net.ts';
import { encodeHalf } from '../lib/float16.ts';
import type { PairMoves } from './counterfactual-pairs.ts';
import { ProgressBar } from './progress.ts';

export interface EditNetOptions {
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Share of the pairs held out to report how well the fit generalises. */
  validation: number;
  seed: number;
}

export const EDIT_NET_DEFAULTS: EditNetOptions = { hidden: 128, epochs: 80, batchSize: 128, learningRate: 1e-3, validation: 0.1, seed: 7 };

export interface FittedNet {
  file: EditNetFile;
  net: EditNet;
  /** Held-out pairs: 1 − mean squared error / variance of the exact moves. */
  validationR2: number;
}

/** Fits a network to the pairs' moves; the progress bar names the attribute. */
export async function fitEditNet(p: PairMoves, options: Partial<EditNetOptions> = {}): Promise<FittedNet> {
  const o = { ...EDIT_NET_DEFAULTS, ...options };
  const { d, n } = p;
  const held = Math.max(1, Math.round(n * o.validation));
  const fit = n - held;
  if (fit < 2) throw new Error(`${n} pairs are too few to fit a network (need at least 3)`);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [d], units: o.hidden, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: o.seed }) }),
      tf.layers.dense({ units: d, kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed + 1 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(o.learningRate), loss: 'meanSquaredError' });
  const x = tf.tensor2d(p.before.subarray(0, fit * d), [fit, d]);
  const y = tf.tensor2d(p.moves.subarray(0, fit * d), [fit, d]);
  const bar = new ProgressBar({ total: o.epochs, label: `${p.attribute} network`, unit: 'epoch' });
  await model.fit(x, y, {
    epochs: o.epochs, batchSize: o.batchSize, shuffle: true, verbose: 0,
    callbacks: { onEpochEnd: (epoch, logs) => bar.update(epoch + 1, `loss ${(logs?.loss ?? NaN).toFixed(5)}`) },
  });
  bar.finish();
  const weights = model.getWeights().flatMap((w) => Array.from(w.dataSync()));
  tf.dispose([x, y]);
  model.dispose();
  const file = { sizes: [d, o.hidden, d], float16: toBase64Url(encodeHalf(weights)) };
  const net = decodeNet(file, d);
  return { file, net, validationR2: explained(net, p, fit) };
}

/** 1 − residual / total sum of squares of the moves of pairs fit.. n under `net`. */
function explained(net: EditNet, p: PairMoves, fit: number): number {
  const { d, n } = p;
  const mean = new Float64Array(d);
  for (let i = fit; i < n; i++) for (let q = 0; q < d; q++) mean[q]! += p.moves[i * d + q]! / (n - fit);
  let residual = 0;
  let total = 0;
  for (let i = fit; i < n; i++) {
    const out = netMove(net, p.before.subarray(i * d, (i + 1) * d));
    for (let q = 0; q < d; q++) {
      const m = p.moves[i * d + q]!;
      residual += (m - out[q]!) ** 2;
      total += (m - mean[q]!) ** 2;
    }
  }
  return total > 0 ? 1 - residual / total : 0;
}
