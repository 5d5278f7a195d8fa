/**
 * The computations behind the "uses" metrics, one small function each:
 * scoring images with a trained VAE (lib/anomaly.ts), PCA to two dimensions
 * (ml-pca) and seeded k-means with restarts (ml-kmeans). training/uses-cli.ts
 * strings them together for a bundle.
 */
import * as tf from '@tensorflow/tfjs';
import { kmeans } from 'ml-kmeans';
import { PCA } from 'ml-pca';
import { anomalyScores, type AnomalyScore } from '../lib/anomaly.ts';
import type { Split } from './data/types.ts';

/**
 * The decoder's logits: the input of its final sigmoid. The bundle's decoder
 * ends in an Activation('sigmoid') layer, so the logits are exact; a decoder
 * without one gets log(p / (1 - p)) of its clipped probabilities instead.
 */
export function logitsOf(decoder: tf.LayersModel): (z: tf.Tensor2D) => tf.Tensor {
  const last = decoder.layers[decoder.layers.length - 1]!;
  const config = last.getConfig() as { activation?: string };
  if (last.getClassName() === 'Activation' && config.activation === 'sigmoid') {
    const logitsModel = tf.model({ inputs: decoder.inputs, outputs: last.input as tf.SymbolicTensor });
    return (z) => logitsModel.predict(z) as tf.Tensor;
  }
  return (z) => tf.tidy(() => {
    const p = tf.clipByValue(decoder.predict(z) as tf.Tensor, 1e-7, 1 - 1e-7);
    return tf.log(tf.div(p, tf.sub(1, p)));
  });
}

export interface ScoredImages {
  scores: AnomalyScore[];
  /** Encoder means, flat [n * latentDim]. */
  means: Float32Array;
}

/** Anomaly scores (lib/anomaly.ts) and encoder means of the given images, in batches. */
export function scoreImages(encoder: tf.LayersModel, decoder: tf.LayersModel, split: Split, indices: ArrayLike<number>, batchSize = 250): ScoredImages {
  const shape = encoder.inputs[0]!.shape.slice(1) as [number, number, number];
  const d = encoder.outputs[0]!.shape[1] as number;
  const logits = logitsOf(decoder);
  const scores: AnomalyScore[] = [];
  const means = new Float32Array(indices.length * d);
  for (let s = 0; s < indices.length; s += batchSize) {
    const idx = Array.prototype.slice.call(indices, s, Math.min(s + batchSize, indices.length)) as number[];
    const x = split.read(idx);
    const [mean, logVar, l] = tf.tidy(() => {
      const [m, lv] = encoder.predict(tf.tensor4d(x, [idx.length, ...shape])) as tf.Tensor[];
      return [m!.dataSync(), lv!.dataSync(), logits(m as tf.Tensor2D).dataSync()];
    });
    scores.push(...anomalyScores(x, l!, mean!, logVar!, idx.length));
    means.set(mean!, s * d);
  }
  return { scores, means };
}

export interface Pca2 {
  /** Projects flat rows of `features` numbers onto the two components, flat [n * 2]. */
  project(rows: Float32Array): Float32Array;
  /** Share of the total pixel variance each component explains. */
  explainedVariance: [number, number];
}

/**
 * The first two principal components of flat rows (n x features), fitted with
 * ml-pca's NIPALS solver (the SVD and covariance solvers of ml-matrix take
 * minutes on 10,000 x 784). NIPALS starts from the first column, so the
 * columns go in with constant ones (MNIST's blank borders, which carry no
 * variance and would start it at zero) left out and the most varied first;
 * both changes leave the components themselves unchanged.
 */
export function fitPca2(rows: Float32Array, features: number): Pca2 {
  const n = rows.length / features;
  if (!Number.isInteger(n) || n < 3) throw new RangeError(`PCA needs at least 3 rows of ${features} numbers`);
  const mean = new Float64Array(features);
  const sumSq = new Float64Array(features);
  for (let i = 0; i < n; i++) for (let j = 0; j < features; j++) mean[j]! += rows[i * features + j]! / n;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < features; j++) {
      const v = rows[i * features + j]! - mean[j]!;
      sumSq[j]! += v * v;
    }
  }
  const total = sumSq.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new RangeError('PCA of rows that are all the same');
  const columns = Array.from({ length: features }, (_, j) => j).filter((j) => sumSq[j]! > 0).sort((a, b) => sumSq[b]! - sumSq[a]! || a - b);
  const pick = (flat: Float32Array) => {
    const m = flat.length / features;
    return Array.from({ length: m }, (_, i) => columns.map((j) => flat[i * features + j]!));
  };
  const pca = new PCA(pick(rows), { method: 'NIPALS', nCompNIPALS: Math.min(2, columns.length) });
  // NIPALS gives the squared norms of the score vectors: the components' sums of squares.
  // Data of rank one leaves nothing for the second component, which NIPALS returns as NaN: it is zero.
  const finiteOr0 = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : 0);
  const eigen = pca.getEigenvalues() as number[];
  return {
    explainedVariance: [finiteOr0(eigen[0]) / total, finiteOr0(eigen[1]) / total],
    project: (flat) => {
      const out = new Float32Array((flat.length / features) * 2);
      const projected = pca.predict(pick(flat), { nComponents: Math.min(2, columns.length) }).to2DArray();
      projected.forEach((row, i) => {
        out[2 * i] = finiteOr0(row[0]);
        out[2 * i + 1] = finiteOr0(row[1]);
      });
      return out;
    },
  };
}

export interface KMeansFit {
  /** Cluster of each fitted point. */
  assignment: Int32Array;
  /** k centroids of `dim` numbers, flat. */
  centroids: Float64Array;
  /** Sum of squared distances of the points to their centroids. */
  inertia: number;
  /** Which restart won (0-based), and its seed. */
  restart: number;
  seed: number;
}

/** The nearest centroid of each point (squared Euclidean distance; the lower index wins a tie). */
export function nearestCentroid(points: ArrayLike<number>, centroids: ArrayLike<number>, dim: number): Int32Array {
  const k = centroids.length / dim;
  const n = points.length / dim;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const diff = points[i * dim + j]! - centroids[c * dim + j]!;
        d += diff * diff;
      }
      if (d < best) {
        best = d;
        out[i] = c;
      }
    }
  }
  return out;
}

/**
 * k-means (ml-kmeans, k-means++ initialisation) run `restarts` times with the
 * seeds seed, seed + 1, ...; the fit with the lowest inertia is kept. The same
 * arguments always give the same clusters.
 */
export function kmeansBest(points: ArrayLike<number>, dim: number, k: number, restarts: number, seed: number): KMeansFit {
  const n = points.length / dim;
  if (!Number.isInteger(n) || n < k) throw new RangeError(`k-means with k = ${k} needs at least ${k} points of ${dim} numbers`);
  const data = Array.from({ length: n }, (_, i) => Array.from({ length: dim }, (_, j) => points[i * dim + j]!));
  let best: KMeansFit | null = null;
  for (let r = 0; r < restarts; r++) {
    const result = kmeans(data, k, { initialization: 'kmeans++', seed: seed + r, maxIterations: 300, tolerance: 1e-8 });
    const centroids = Float64Array.from(result.centroids.flat());
    // The final assignment, against the final centroids (the library's lags one update behind).
    const assignment = nearestCentroid(points, centroids, dim);
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dim; j++) {
        const diff = points[i * dim + j]! - centroids[assignment[i]! * dim + j]!;
        inertia += diff * diff;
      }
    }
    if (!best || inertia < best.inertia) best = { assignment, centroids, inertia, restart: r, seed: seed + r };
  }
  return best!;
}
