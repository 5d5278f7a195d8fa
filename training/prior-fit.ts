/**
 * Fits the learned latent prior (lib/prior.ts): a full-covariance Gaussian
 * mixture over the encoder means of the training images, by expectation-
 * maximisation from a k-means++ start. Plain typed-array loops: N × K × d²
 * work per iteration (21,600 × 40 × 64² ≈ 3.5 G operations, a few seconds).
 */
import { packedSize, type GaussianMixturePrior } from '../lib/prior.ts';
import { mulberry32 } from '../lib/random.ts';
import { ProgressBar } from './progress.ts';

export interface GmmOptions {
  components: number;
  iterations: number;
  seed: number;
  /** Added to every covariance's diagonal (keeps thin components invertible). */
  regularisation: number;
  /** Stop when the mean log-likelihood improves by less than this. */
  tolerance: number;
  log?: boolean;
}

export const GMM_DEFAULTS: GmmOptions = { components: 40, iterations: 100, seed: 1, regularisation: 1e-4, tolerance: 1e-4 };

export interface GmmFit {
  prior: GaussianMixturePrior;
  /** Mean log-likelihood per point after each iteration. */
  logLikelihood: number[];
  iterations: number;
}

/** k-means++ seeding: K rows of x chosen far from each other. */
function seedCentres(x: Float64Array, n: number, d: number, K: number, random: () => number): Float64Array {
  const centres = new Float64Array(K * d);
  const dist = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(random() * n);
  for (let k = 0; k < K; k++) {
    centres.set(x.subarray(pick * d, pick * d + d), k * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = x[i * d + j]! - centres[k * d + j]!;
        s += t * t;
      }
      if (s < dist[i]!) dist[i] = s;
      total += dist[i]!;
    }
    let u = random() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      u -= dist[i]!;
      if (u <= 0) {
        pick = i;
        break;
      }
    }
  }
  return centres;
}

/** In-place Cholesky of a symmetric positive-definite d × d matrix (dense, row-major) into packed lower form. */
export function choleskyPacked(a: Float64Array, d: number): Float64Array {
  const L = new Float64Array(packedSize(d));
  for (let i = 0; i < d; i++) {
    const ri = (i * (i + 1)) / 2;
    for (let j = 0; j <= i; j++) {
      const rj = (j * (j + 1)) / 2;
      let s = a[i * d + j]!;
      for (let k = 0; k < j; k++) s -= L[ri + k]! * L[rj + k]!;
      if (i === j) {
        if (!(s > 0)) throw new Error(`covariance is not positive definite (pivot ${s} at ${i})`);
        L[ri + i] = Math.sqrt(s);
      } else {
        L[ri + j] = s / L[rj + j]!;
      }
    }
  }
  return L;
}

/** E-step: responsibilities [n × K] (overwritten) and the mean log-likelihood. */
function expectation(x: Float64Array, n: number, d: number, weights: Float64Array, means: Float64Array, chols: Float64Array[], resp: Float64Array): number {
  const K = weights.length;
  const y = new Float64Array(d);
  const constant = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let logDet = 0;
    for (let i = 0; i < d; i++) logDet += Math.log(chols[k]![(i * (i + 1)) / 2 + i]!);
    constant[k] = Math.log(weights[k]!) - logDet - 0.5 * d * Math.log(2 * Math.PI);
  }
  let total = 0;
  for (let p = 0; p < n; p++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      const L = chols[k]!;
      let quad = 0;
      for (let i = 0; i < d; i++) {
        const ri = (i * (i + 1)) / 2;
        let s = x[p * d + i]! - means[k * d + i]!;
        for (let j = 0; j < i; j++) s -= L[ri + j]! * y[j]!;
        y[i] = s / L[ri + i]!;
        quad += y[i]! * y[i]!;
      }
      const lp = constant[k]! - 0.5 * quad;
      resp[p * K + k] = lp;
      if (lp > max) max = lp;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(resp[p * K + k]! - max);
    const logSum = max + Math.log(sum);
    for (let k = 0; k < K; k++) resp[p * K + k] = Math.exp(resp[p * K + k]! - logSum);
    total += logSum;
  }
  return total / n;
}

/** M-step: weights, means and Cholesky factors from the responsibilities. */
function maximisation(x: Float64Array, n: number, d: number, resp: Float64Array, K: number, reg: number): { weights: Float64Array; means: Float64Array; chols: Float64Array[] } {
  const weights = new Float64Array(K);
  const means = new Float64Array(K * d);
  const chols: Float64Array[] = [];
  const cov = new Float64Array(d * d);
  const diff = new Float64Array(d);
  for (let k = 0; k < K; k++) {
    let nk = 0;
    for (let p = 0; p < n; p++) {
      const r = resp[p * K + k]!;
      nk += r;
      for (let j = 0; j < d; j++) means[k * d + j] = means[k * d + j]! + r * x[p * d + j]!;
    }
    nk = Math.max(nk, 1e-10);
    for (let j = 0; j < d; j++) means[k * d + j] = means[k * d + j]! / nk;
    weights[k] = nk / n;
    cov.fill(0);
    for (let p = 0; p < n; p++) {
      const r = resp[p * K + k]!;
      if (r < 1e-8) continue;
      for (let j = 0; j < d; j++) diff[j] = x[p * d + j]! - means[k * d + j]!;
      for (let i = 0; i < d; i++) {
        const ri = r * diff[i]!;
        for (let j = 0; j <= i; j++) cov[i * d + j] = cov[i * d + j]! + ri * diff[j]!;
      }
    }
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) cov[i * d + j] = cov[i * d + j]! / nk;
      cov[i * d + i] = cov[i * d + i]! + reg;
    }
    chols.push(choleskyPacked(cov, d));
  }
  return { weights, means, chols };
}

/** Hard k-means assignments as responsibilities, to start EM from. */
function kmeansResponsibilities(x: Float64Array, n: number, d: number, centres: Float64Array, K: number): Float64Array {
  const resp = new Float64Array(n * K);
  for (let p = 0; p < n; p++) {
    let best = 0;
    let bestD = Infinity;
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = x[p * d + j]! - centres[k * d + j]!;
        s += t * t;
      }
      if (s < bestD) {
        bestD = s;
        best = k;
      }
    }
    resp[p * K + best] = 1;
  }
  return resp;
}

/** Fits a K-component full-covariance mixture to n points of dimension d (flat [n × d]). */
export function fitGaussianMixture(points: ArrayLike<number>, d: number, options: Partial<GmmOptions> = {}): GmmFit {
  const o = { ...GMM_DEFAULTS, ...options };
  const n = points.length / d;
  if (!Number.isInteger(n) || n < o.components * 2) throw new Error(`a ${o.components}-component mixture needs at least ${o.components * 2} points, got ${n}`);
  const x = Float64Array.from(points);
  const K = o.components;
  let resp = kmeansResponsibilities(x, n, d, seedCentres(x, n, d, K, mulberry32(o.seed)), K);
  const history: number[] = [];
  const bar = o.log ? new ProgressBar({ total: o.iterations, label: `mixture of ${K} Gaussians (EM)`, unit: 'it' }) : null;
  let params = maximisation(x, n, d, resp, K, o.regularisation);
  let it = 0;
  for (; it < o.iterations; it++) {
    resp = new Float64Array(n * K);
    const ll = expectation(x, n, d, params.weights, params.means, params.chols, resp);
    history.push(ll);
    bar?.update(it + 1, `log-likelihood ${ll.toFixed(3)}`);
    params = maximisation(x, n, d, resp, K, o.regularisation);
    if (it > 0 && Math.abs(ll - history[it - 1]!) < o.tolerance) {
      it++;
      break;
    }
  }
  bar?.finish();
  const chol = new Float32Array(K * packedSize(d));
  params.chols.forEach((L, k) => chol.set(L, k * packedSize(d)));
  return { prior: { kind: 'gmm', latentDim: d, weights: params.weights, means: Float32Array.from(params.means), chol }, logLikelihood: history, iterations: it };
}
