/**
 * An independent judge of generated faces: a CNN trained on a separate face
 * set (never on the model's data, never on decoded images) to read the
 * attributes. Two measures come from it:
 *   - FID in its features: the Fréchet distance between Gaussians fitted to
 *     the penultimate-layer features of two image sets (lower is closer);
 *   - the confident-reading share: the fraction of images on which the judge
 *     reads every attribute with probability ≥ 0.9 or ≤ 0.1. A face the judge
 *     is sure about is drawn clearly; mush leaves it unsure.
 * The trained judge is kept under the judge set's folder so later runs reuse it.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageShape } from '../lib/bundle.ts';
import type { ImageDataset } from './data/types.ts';
import { loadLayersModelFromDir, saveLayersModel } from './export.ts';
import { ProgressBar } from './progress.ts';

export const CONFIDENCE = 0.9;
export const FEATURE_UNITS = 256;

export interface Judge {
  /** Image → [features, logits]. */
  model: tf.LayersModel;
  attributes: string[];
  image: ImageShape;
  /** Accuracy per attribute on the judge set's own test split. */
  accuracy: Record<string, number>;
}

/** Attributes with at least `min` positive and negative training images: the ones a judge can learn. */
export function learnableAttributes(data: ImageDataset, min = 100): string[] {
  const names = data.attributeNames ?? [];
  const a = data.train.attributes;
  if (!a) return [];
  return names.filter((_, j) => {
    let pos = 0;
    for (let i = 0; i < data.train.count; i++) pos += a[i * names.length + j]! > 0 ? 1 : 0;
    return pos >= min && data.train.count - pos >= min;
  });
}

function buildJudge(image: ImageShape, count: number): tf.LayersModel {
  const input = tf.input({ shape: [image.height, image.width, image.channels] });
  let h: tf.SymbolicTensor = input;
  for (const [i, filters] of [32, 64, 128, 128].entries()) {
    h = tf.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 10 + i }) }).apply(h) as tf.SymbolicTensor;
  }
  h = tf.layers.flatten().apply(h) as tf.SymbolicTensor;
  const features = tf.layers.dense({ units: FEATURE_UNITS, activation: 'relu', name: 'features', kernelInitializer: tf.initializers.heNormal({ seed: 20 }) }).apply(h) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: count, name: 'logits', kernelInitializer: tf.initializers.glorotUniform({ seed: 21 }) }).apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: [features, logits], name: 'judge' });
}

function targets(data: ImageDataset, cols: number[], indices: ArrayLike<number>): Float32Array {
  const all = data.attributeNames!.length;
  const t = new Float32Array(indices.length * cols.length);
  for (let k = 0; k < indices.length; k++) cols.forEach((c, j) => (t[k * cols.length + j] = data.train.attributes![indices[k]! * all + c]! > 0 ? 1 : 0));
  return t;
}

/** Trains a judge on `data` (a face set apart from the model's). */
export function trainJudge(data: ImageDataset, epochs = 4): Judge {
  const attributes = learnableAttributes(data);
  if (attributes.length === 0) throw new Error(`${data.source} has no attribute with enough positive and negative images to judge`);
  const cols = attributes.map((n) => data.attributeNames!.indexOf(n));
  const model = buildJudge(data.image, attributes.length);
  const optimizer = tf.train.adam(1e-3);
  const shape = [data.image.height, data.image.width, data.image.channels] as const;
  for (let e = 0; e < epochs; e++) {
    const bar = new ProgressBar({ total: data.train.count, label: `judge ${e + 1}/${epochs}`, unit: 'img' });
    let seen = 0;
    let lossSum = 0;
    for (const b of data.train.batches(64, 5000 + e)) {
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(b.x, [b.size, ...shape]);
        const y = tf.tensor2d(targets(data, cols, b.indices), [b.size, cols.length]);
        return optimizer.minimize(() => tf.losses.sigmoidCrossEntropy(y, (model.apply(x, { training: true }) as tf.Tensor[])[1]!) as tf.Scalar, true)!.dataSync()[0]!;
      });
      seen += b.size;
      lossSum += loss * b.size;
      bar.update(seen, `loss ${(lossSum / seen).toFixed(3)}`);
    }
    bar.finish();
  }
  optimizer.dispose();
  const judge: Judge = { model, attributes, image: data.image, accuracy: {} };
  const n = data.test.count;
  const { probs } = judgeImages(judge, (idx) => data.test.read(idx), n);
  const all = data.attributeNames!.length;
  attributes.forEach((name, j) => {
    let right = 0;
    for (let i = 0; i < n; i++) right += (probs[i * attributes.length + j]! > 0.5) === (data.test.attributes![i * all + cols[j]!]! > 0) ? 1 : 0;
    judge.accuracy[name] = right / n;
  });
  return judge;
}

/** Features [n × FEATURE_UNITS] and attribute probabilities [n × attributes] of n images read in blocks. */
export function judgeImages(judge: Judge, read: (indices: Int32Array) => Float32Array, n: number): { features: Float32Array; probs: Float32Array } {
  const A = judge.attributes.length;
  const features = new Float32Array(n * FEATURE_UNITS);
  const probs = new Float32Array(n * A);
  const { height, width, channels } = judge.image;
  for (let s = 0; s < n; s += 200) {
    const idx = Int32Array.from({ length: Math.min(200, n - s) }, (_, i) => s + i);
    const [f, p] = tf.tidy(() => {
      const [feat, logits] = judge.model.predict(tf.tensor4d(read(idx), [idx.length, height, width, channels])) as tf.Tensor[];
      return [feat!.dataSync() as Float32Array, tf.sigmoid(logits!).dataSync() as Float32Array];
    });
    features.set(f, s * FEATURE_UNITS);
    probs.set(p, s * A);
  }
  return { features, probs };
}

/** Share of images whose every attribute the judge reads with confidence ≥ CONFIDENCE. */
export function confidentShare(probs: ArrayLike<number>, attributes: number, confidence = CONFIDENCE): number {
  const n = probs.length / attributes;
  let sure = 0;
  for (let i = 0; i < n; i++) {
    let all = true;
    for (let j = 0; j < attributes && all; j++) {
      const p = probs[i * attributes + j]!;
      all = Math.max(p, 1 - p) >= confidence;
    }
    sure += all ? 1 : 0;
  }
  return n ? sure / n : 0;
}

/** Loads the judge kept in `dir`, or trains one on `load()` and keeps it there. */
export async function cachedJudge(dir: string, load: () => Promise<ImageDataset>, epochs = 4): Promise<Judge> {
  const meta = join(dir, 'judge.json');
  if (existsSync(meta)) {
    const m = JSON.parse(readFileSync(meta, 'utf8')) as Omit<Judge, 'model'> & { epochs: number };
    if (m.epochs === epochs) {
      console.log(`Using the judge kept in ${dir} (trained ${m.epochs} epochs; delete the folder to retrain).`);
      return { ...m, model: await loadLayersModelFromDir(dir) };
    }
  }
  const judge = trainJudge(await load(), epochs);
  mkdirSync(dir, { recursive: true });
  await saveLayersModel(judge.model, dir, { float16: false });
  writeFileSync(meta, JSON.stringify({ attributes: judge.attributes, image: judge.image, accuracy: judge.accuracy, epochs }, null, 1));
  return judge;
}
