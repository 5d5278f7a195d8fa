/** The uses metrics on small cases whose answers are known by hand. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { anomalyScores, bceFromLogits, gaussianKl, isAnomalous, shareBelow } from '../../lib/anomaly.ts';
import { clusterSummaries, fractionAbove, histogram, knnAccuracy, knnPredict, percentile, purity, rocAuc } from '../../training/metrics.ts';
import { parseAnomalyExamples, parseClusters, parsePcaMap, usesMetricsOf, whyNoUsesMetrics } from '../../lib/uses.ts';
import { bceFromLogits as tfBce, klDivergence as tfKl } from '../../lib/vae-model.ts';
import { fitPca2, kmeansBest, nearestCentroid } from '../../training/uses.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('rocAuc', () => {
  it('is 1 when every positive scores above every negative', () => {
    expect(rocAuc([1, 2, 3], [4, 5])).toBe(1);
  });
  it('is 0 when the order is reversed', () => {
    expect(rocAuc([4, 5], [1, 2, 3])).toBe(0);
  });
  it('is 0.5 when every score ties', () => {
    expect(rocAuc([7, 7, 7], [7, 7])).toBe(0.5);
  });
  it('counts a tie as half a win', () => {
    // Positive 2 beats 1, ties 2, loses to 3 (1.5 of 3); positive 4 beats all three: 4.5 / 6.
    expect(rocAuc([1, 2, 3], [2, 4])).toBeCloseTo(0.75, 12);
  });
  it('does not depend on input order', () => {
    expect(rocAuc([3, 1, 2], [4, 2])).toBeCloseTo(0.75, 12);
  });
  it('refuses empty or non-finite scores', () => {
    expect(() => rocAuc([], [1])).toThrow(/at least one/);
    expect(() => rocAuc([1], [NaN])).toThrow(/finite/);
  });
});

describe('percentile and fractionAbove', () => {
  it('interpolates linearly between order statistics', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5], 25)).toBe(2);
    expect(percentile([0, 10], 35)).toBeCloseTo(3.5, 12);
    expect(percentile(Array.from({ length: 101 }, (_, i) => i + 1), 99)).toBe(100);
    expect(percentile([4], 99)).toBe(4);
  });
  it('flags scores strictly above the threshold', () => {
    expect(fractionAbove([1, 2, 3, 4], 2)).toBe(0.5);
    expect(fractionAbove([1, 2, 3, 4], 4)).toBe(0);
  });
  it('refuses an empty list or a p outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow();
    expect(() => percentile([1], 101)).toThrow();
  });
});

describe('purity', () => {
  it('scores a hand-made assignment', () => {
    // Cluster 0 holds labels 0,0,1 (majority 0); cluster 1 holds 1,1,2 (majority 1): 4 of 6 agree.
    expect(purity([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 2], 2, 3)).toBeCloseTo(4 / 6, 12);
  });
  it('is 1 for a perfect clustering whatever the cluster numbers', () => {
    expect(purity([2, 2, 0, 0, 1], [5, 5, 3, 3, 0], 3, 6)).toBe(1);
  });
  it('is 1 / classes for one cluster holding classes in equal numbers', () => {
    expect(purity([0, 0, 0, 0], [0, 1, 2, 3], 1, 4)).toBe(0.25);
  });
  it('summarises each cluster, empty ones included, with the smaller label winning a tie', () => {
    const s = clusterSummaries([0, 0, 2, 2, 2], [3, 1, 2, 2, 0], 3, 4);
    expect(s[0]).toEqual({ cluster: 0, size: 2, majority: 1, purity: 0.5 });
    expect(s[1]!.size).toBe(0);
    expect(s[1]!.majority).toBe(-1);
    expect(Number.isNaN(s[1]!.purity)).toBe(true);
    expect(s[2]).toEqual({ cluster: 2, size: 3, majority: 2, purity: 2 / 3 });
  });
  it('refuses labels or clusters out of range', () => {
    expect(() => purity([0, 3], [0, 0], 2, 1)).toThrow(/assignment 3/);
    expect(() => purity([0, 1], [0, 5], 2, 2)).toThrow(/label 5/);
  });
});

describe('kNN', () => {
  // Class 0 at x = 0, 1, 2; class 1 at x = 10, 11, 12 (second coordinate 0).
  const train = [0, 0, 1, 0, 2, 0, 10, 0, 11, 0, 12, 0];
  const labels = [0, 0, 0, 1, 1, 1];

  it('votes among the k nearest', () => {
    expect(Array.from(knnPredict(train, labels, [1.5, 0, 9, 0, 5.9, 0], 2, 3))).toEqual([0, 1, 0]);
    expect(knnAccuracy(train, labels, [1.5, 0, 9, 0], [0, 1], 2, 3)).toBe(1);
    expect(knnAccuracy(train, labels, [1.5, 0, 9, 0], [1, 1], 2, 3)).toBe(0.5);
  });
  it('gives a tied vote to the class of the nearest neighbour', () => {
    // k = 2 at x = 6.1: neighbours 2 (class 0, distance 4.1) and 10 (class 1, distance 3.9).
    expect(Array.from(knnPredict(train, labels, [6.1, 0], 2, 2))).toEqual([1]);
    expect(Array.from(knnPredict(train, labels, [5.9, 0], 2, 2))).toEqual([0]);
  });
  it('with k = 1 is the nearest neighbour, and k = n the majority', () => {
    expect(Array.from(knnPredict([0, 1, 5], [2, 0, 1], [0.4, 3.5], 1, 1))).toEqual([2, 1]);
    expect(Array.from(knnPredict([0, 1, 5], [1, 1, 0], [5], 1, 3))).toEqual([1]);
  });
  it('refuses mismatched shapes and bad k', () => {
    expect(() => knnPredict([0, 1, 2], [0, 1], [0, 0], 2, 1)).toThrow();
    expect(() => knnPredict([0, 1], [0, 1], [0], 1, 3)).toThrow(/k must/);
  });
});

describe('histogram', () => {
  it('counts half-open bins, the last one closed, values outside clamped', () => {
    expect(histogram([0, 0.5, 1, 1.5, 2, 2, -3, 9], [0, 1, 2])).toEqual([3, 5]);
    expect(histogram([1, 2, 3, 4], [1, 2, 3, 4])).toEqual([1, 1, 2]);
  });
});

describe('anomaly score', () => {
  it('matches hand-computed terms', () => {
    // Logit 0 means p = 1/2: log 2 per pixel, whatever the pixel.
    expect(bceFromLogits([0, 1, 0.3], [0, 0, 0])).toBeCloseTo(3 * Math.LN2, 12);
    // A confident right answer costs almost nothing; a confident wrong one about |logit|.
    expect(bceFromLogits([1], [30])).toBeCloseTo(0, 10);
    expect(bceFromLogits([0], [30])).toBeCloseTo(30, 10);
    expect(gaussianKl([0, 0], [0, 0])).toBeCloseTo(0, 12);
    // -1/2 (1 + 0 - 9 - 1) - 1/2 (1 + 0 - 16 - 1) = 4.5 + 8
    expect(gaussianKl([3, 4], [0, 0])).toBeCloseTo(12.5, 12);
  });
  it('agrees with the training loss terms on random data', () => {
    const n = 3;
    const x = tf.randomUniform([n, 4, 4, 1], 0, 1, 'float32', 1);
    const logits = tf.randomNormal([n, 4, 4, 1], 0, 3, 'float32', 2);
    const mean = tf.randomNormal([n, 2], 0, 1, 'float32', 3);
    const logVar = tf.randomNormal([n, 2], 0, 1, 'float32', 4);
    const scores = anomalyScores(x.dataSync(), logits.dataSync(), mean.dataSync(), logVar.dataSync(), n);
    const rec = tfBce(x, logits).dataSync();
    const kl = tfKl(mean, logVar).dataSync();
    scores.forEach((s, i) => {
      expect(s.reconstruction).toBeCloseTo(rec[i]!, 3);
      expect(s.kl).toBeCloseTo(kl[i]!, 4);
      expect(s.score).toBeCloseTo(rec[i]! + kl[i]!, 3);
    });
    tf.dispose([x, logits, mean, logVar]);
  });
  it('flags scores above the threshold, and places a score among calibration counts', () => {
    expect(isAnomalous(10.01, 10)).toBe(true);
    expect(isAnomalous(10, 10)).toBe(false);
    expect(shareBelow(15, [0, 10, 20, 30], [2, 2, 4])).toBeCloseTo(3 / 8, 12);
    expect(shareBelow(40, [0, 10, 20, 30], [2, 2, 4])).toBe(1);
    expect(shareBelow(-1, [0, 10, 20, 30], [2, 2, 4])).toBe(0);
  });
});

describe('k-means (ml-kmeans) and PCA (ml-pca)', () => {
  // Three tight blobs around (0, 0), (10, 0) and (0, 10), labelled by blob.
  const blobs: number[] = [];
  const blobLabels: number[] = [];
  [[0, 0], [10, 0], [0, 10]].forEach(([cx, cy], label) => {
    for (let i = 0; i < 20; i++) {
      blobs.push(cx! + Math.sin(i * 1.7) * 0.5, cy! + Math.cos(i * 2.3) * 0.5);
      blobLabels.push(label);
    }
  });

  it('finds well-separated blobs (purity 1), the same way every time', () => {
    const a = kmeansBest(blobs, 2, 3, 4, 1);
    const b = kmeansBest(blobs, 2, 3, 4, 1);
    expect(purity(a.assignment, blobLabels, 3, 3)).toBe(1);
    expect(Array.from(a.assignment)).toEqual(Array.from(b.assignment));
    expect(Array.from(nearestCentroid([9, 1], a.centroids, 2))).toEqual([a.assignment[20]]);
  });

  it('finds the two directions of points in a plane, with their shares of the variance', () => {
    // Rows t (1, 2, 0) + s (2, -1, 0) + (1, -1, 5): t and s uncorrelated with sums of squares 10 and 4,
    // so the components are (1, 2, 0) / sqrt 5 and (2, -1, 0) / sqrt 5 with variance 50 and 20.
    const t = [-2, -1, 0, 1, 2];
    const s = [1, -1, 0, -1, 1];
    const rows = new Float32Array(t.flatMap((ti, i) => [ti + 2 * s[i]! + 1, 2 * ti - s[i]! - 1, 5]));
    const pca = fitPca2(rows, 3);
    expect(pca.explainedVariance[0]).toBeCloseTo(50 / 70, 5);
    expect(pca.explainedVariance[1]).toBeCloseTo(20 / 70, 5);
    const p = pca.project(rows);
    // Up to the sign of each axis, the coordinates are t sqrt 5 and s sqrt 5.
    const sign1 = Math.sign(p[0]!) * Math.sign(t[0]!);
    const sign2 = Math.sign(p[1]!) * Math.sign(s[0]!);
    t.forEach((ti, i) => {
      expect(sign1 * p[2 * i]!).toBeCloseTo(ti * Math.sqrt(5), 3);
      expect(sign2 * p[2 * i + 1]!).toBeCloseTo(s[i]! * Math.sqrt(5), 3);
    });
  });

  it('gives points on a line all the variance on the first component', () => {
    const rows = new Float32Array([0, 1, 2, 3, 4].flatMap((t) => [t + 1, 2 * t - 1, 5]));
    const pca = fitPca2(rows, 3);
    expect(pca.explainedVariance[0]).toBeCloseTo(1, 6);
    expect(pca.explainedVariance[1]).toBe(0);
    const p = pca.project(rows);
    const sign = -Math.sign(p[0]!);
    [0, 1, 2, 3, 4].forEach((t, i) => {
      expect(sign * p[2 * i]!).toBeCloseTo((t - 2) * Math.sqrt(5), 4);
      expect(p[2 * i + 1]).toBe(0);
    });
  });
});

describe('the uses contract', () => {
  const digits = { encoder: 'encoder/model.json', image: { height: 28, width: 28, channels: 1 }, latentDim: 2, latentMap: 'latent-map.json', dataset: { name: 'MNIST', train: 1, test: 1, labels: '0123456789'.split('') } };

  it('knows which bundles can have uses metrics', () => {
    expect(whyNoUsesMetrics(digits)).toBeNull();
    expect(whyNoUsesMetrics({ ...digits, image: { height: 64, width: 64, channels: 3 }, latentDim: 64 })).toMatch(/64x64x3/);
    expect(whyNoUsesMetrics({ ...digits, encoder: null })).toMatch(/no encoder/);
  });

  it('reads metrics.uses, or null when there is none, and names a broken field', () => {
    expect(usesMetricsOf({ metrics: { test: { negElbo: 1, reconstruction: 1, kl: 0 } } })).toBeNull();
    expect(() => usesMetricsOf({ metrics: { test: { negElbo: 1, reconstruction: 1, kl: 0 }, uses: { anomaly: {} } } })).toThrow(/metrics.uses/);
  });

  it('checks the uses files', () => {
    expect(parsePcaMap({ classes: ['0'], z: [1, 2], label: [0], index: [4], explainedVariance: [0.1, 0.05] }).index).toEqual([4]);
    expect(() => parsePcaMap({ classes: ['0'], z: [1], label: [0], index: [4], explainedVariance: [0.1, 0.05] })).toThrow(/z/);
    const space = { assignment: [0, 1], clusters: [0, 1].map((c) => ({ cluster: c, size: 1, majority: c, purity: 1, centroid: [0, c] })) };
    expect(parseClusters({ k: 2, classes: ['0', '1'], vae: space, pca: space }).k).toBe(2);
    expect(() => parseClusters({ k: 2, classes: [], vae: { ...space, assignment: [2] }, pca: space })).toThrow(/assignment/);
    expect(() => parseAnomalyExamples({ image: { height: 28, width: 28 }, threshold: 1, examples: [{ source: 'cifar' }] })).toThrow(/source/);
  });
});
