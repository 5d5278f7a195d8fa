/**
 * The numbers behind the "uses" pages, as pure functions: ROC AUC and rates for
 * anomaly detection, purity for clustering, k-nearest-neighbour accuracy for
 * dimension reduction, percentiles and histograms. No I/O, no tfjs: the build
 * (training/uses-cli.ts) and the tests call the same code.
 */

/**
 * Area under the ROC curve for "a higher score means positive": the
 * probability that a random positive scores above a random negative, ties
 * counting one half (the Mann-Whitney U statistic divided by n+ * n-).
 * Computed from mid-ranks, O(n log n).
 */
export function rocAuc(negatives: ArrayLike<number>, positives: ArrayLike<number>): number {
  const nNeg = negatives.length;
  const nPos = positives.length;
  if (nNeg === 0 || nPos === 0) throw new RangeError('rocAuc needs at least one negative and one positive score');
  const all: { v: number; pos: boolean }[] = [];
  for (let i = 0; i < nNeg; i++) all.push({ v: checkFinite(negatives[i]!, 'rocAuc'), pos: false });
  for (let i = 0; i < nPos; i++) all.push({ v: checkFinite(positives[i]!, 'rocAuc'), pos: true });
  all.sort((a, b) => a.v - b.v);
  let rankSumPos = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j]!.v === all[i]!.v) j++;
    // Ranks i+1 .. j share their mean.
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.pos) rankSumPos += midRank;
    i = j;
  }
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** The p-th percentile (0..100) with linear interpolation between order statistics (numpy's default). */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile needs 0 <= p <= 100, got ${p}`);
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Share of `values` strictly above `threshold`: the flag rate of a detector that flags scores above it. */
export function fractionAbove(values: ArrayLike<number>, threshold: number): number {
  if (values.length === 0) return NaN;
  let n = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > threshold) n++;
  return n / values.length;
}

export interface ClusterSummary {
  cluster: number;
  size: number;
  /** The most frequent true label in the cluster (the smallest label wins a tie); -1 for an empty cluster. */
  majority: number;
  /** Share of the cluster's points that carry the majority label; NaN for an empty cluster. */
  purity: number;
}

/** Per-cluster size, majority label and purity. Clusters are 0..k-1, labels 0..classes-1. */
export function clusterSummaries(assignments: ArrayLike<number>, labels: ArrayLike<number>, k: number, classes: number): ClusterSummary[] {
  if (assignments.length !== labels.length) throw new RangeError(`${assignments.length} assignments for ${labels.length} labels`);
  const counts = Array.from({ length: k }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < assignments.length; i++) {
    const c = assignments[i]!;
    const l = labels[i]!;
    if (!(Number.isInteger(c) && c >= 0 && c < k)) throw new RangeError(`assignment ${c} outside 0..${k - 1}`);
    if (!(Number.isInteger(l) && l >= 0 && l < classes)) throw new RangeError(`label ${l} outside 0..${classes - 1}`);
    counts[c]![l]!++;
  }
  return counts.map((row, cluster) => {
    const size = row.reduce((a, b) => a + b, 0);
    let majority = -1;
    let best = 0;
    row.forEach((n, label) => {
      if (n > best) {
        best = n;
        majority = label;
      }
    });
    return { cluster, size, majority, purity: size > 0 ? best / size : NaN };
  });
}

/**
 * Purity of a clustering: each cluster votes for its majority label, and the
 * purity is the share of all points that agree with their cluster's vote.
 * 1 means every cluster holds a single class; with k clusters of equal classes
 * mixed evenly it falls to 1 / classes.
 */
export function purity(assignments: ArrayLike<number>, labels: ArrayLike<number>, k: number, classes: number): number {
  if (assignments.length === 0) throw new RangeError('purity of an empty clustering');
  const summaries = clusterSummaries(assignments, labels, k, classes);
  const agreeing = summaries.reduce((n, s) => n + (s.size > 0 ? s.purity * s.size : 0), 0);
  return agreeing / assignments.length;
}

/**
 * Labels predicted by a k-nearest-neighbour vote (Euclidean distance) for each
 * query point. Points are flat arrays of `dim` numbers each. A tied vote goes
 * to the tied class whose nearest member is closest to the query.
 */
export function knnPredict(
  trainPoints: ArrayLike<number>,
  trainLabels: ArrayLike<number>,
  queries: ArrayLike<number>,
  dim: number,
  k: number,
): Int32Array {
  const nTrain = trainLabels.length;
  if (trainPoints.length !== nTrain * dim) throw new RangeError(`${trainPoints.length} train numbers for ${nTrain} ${dim}-D points`);
  if (queries.length % dim !== 0) throw new RangeError(`${queries.length} query numbers is not a whole number of ${dim}-D points`);
  if (!(Number.isInteger(k) && k >= 1 && k <= nTrain)) throw new RangeError(`k must be an integer in 1..${nTrain}, got ${k}`);
  const nQuery = queries.length / dim;
  const out = new Int32Array(nQuery);
  const bestD = new Float64Array(k);
  const bestL = new Int32Array(k);
  for (let q = 0; q < nQuery; q++) {
    bestD.fill(Infinity);
    bestL.fill(-1);
    for (let i = 0; i < nTrain; i++) {
      let d = 0;
      for (let j = 0; j < dim; j++) {
        const diff = trainPoints[i * dim + j]! - queries[q * dim + j]!;
        d += diff * diff;
      }
      if (d >= bestD[k - 1]!) continue;
      // Insertion into the sorted list of the k best; an equal distance keeps the earlier point first.
      let pos = k - 1;
      while (pos > 0 && bestD[pos - 1]! > d) {
        bestD[pos] = bestD[pos - 1]!;
        bestL[pos] = bestL[pos - 1]!;
        pos--;
      }
      bestD[pos] = d;
      bestL[pos] = trainLabels[i]!;
    }
    const votes = new Map<number, number>();
    for (let r = 0; r < k; r++) votes.set(bestL[r]!, (votes.get(bestL[r]!) ?? 0) + 1);
    const top = Math.max(...votes.values());
    // Walking neighbours nearest first, the first label with the top vote count wins.
    let winner = -1;
    for (let r = 0; r < k && winner < 0; r++) if (votes.get(bestL[r]!) === top) winner = bestL[r]!;
    out[q] = winner;
  }
  return out;
}

/** Accuracy of knnPredict on labelled queries. */
export function knnAccuracy(
  trainPoints: ArrayLike<number>,
  trainLabels: ArrayLike<number>,
  testPoints: ArrayLike<number>,
  testLabels: ArrayLike<number>,
  dim: number,
  k: number,
): number {
  if (testPoints.length !== testLabels.length * dim) throw new RangeError(`${testPoints.length} test numbers for ${testLabels.length} ${dim}-D points`);
  if (testLabels.length === 0) throw new RangeError('knnAccuracy needs at least one test point');
  const predicted = knnPredict(trainPoints, trainLabels, testPoints, dim, k);
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === testLabels[i]) right++;
  return right / predicted.length;
}

/** Counts of `values` in the bins [edges[i], edges[i+1]); the last bin also takes its right edge. Values outside are clamped into the end bins. */
export function histogram(values: ArrayLike<number>, edges: readonly number[]): number[] {
  if (edges.length < 2) throw new RangeError('a histogram needs at least two edges');
  const counts = new Array<number>(edges.length - 1).fill(0);
  const last = counts.length - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = last;
    if (v <= edges[0]!) hi = 0;
    else if (v >= edges[last]!) lo = last;
    // Binary search for the bin whose left edge is the last one <= v.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (edges[mid]! <= v) lo = mid;
      else hi = mid - 1;
    }
    counts[lo]!++;
  }
  return counts;
}

function checkFinite(v: number, where: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`${where}: score ${v} is not a finite number`);
  return v;
}
