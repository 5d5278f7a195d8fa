/**
 * Fréchet distance between two sets of feature vectors (FID when the features
 * come from a judge network): fit a Gaussian to each set, then
 *   |μ₁ - μ₂|² + tr(Σ₁ + Σ₂ - 2 (Σ₁^½ Σ₂ Σ₁^½)^½).
 * The matrix square roots come from symmetric eigendecompositions (Jacobi).
 */
import { matmul, sqrtmSymmetric, symmetricEigen } from './linalg.ts';

export { sqrtmSymmetric, symmetricEigen };

/** Mean [d] and covariance [d × d] (n - 1 denominator) of n rows of width d. */
export function meanAndCovariance(x: ArrayLike<number>, d: number): { mean: Float64Array; cov: Float64Array } {
  const n = x.length / d;
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] = mean[j]! + x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n;
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = x[i * d + j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = 0; b <= a; b++) cov[a * d + b] = cov[a * d + b]! + ra * row[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = 0; b <= a; b++) {
      cov[a * d + b] = cov[a * d + b]! / Math.max(1, n - 1);
      cov[b * d + a] = cov[a * d + b]!;
    }
  }
  return { mean, cov };
}

/** Fréchet distance between two Gaussians. */
export function frechetDistance(m1: Float64Array, c1: Float64Array, m2: Float64Array, c2: Float64Array, d: number): number {
  let dist = 0;
  for (let j = 0; j < d; j++) dist += (m1[j]! - m2[j]!) ** 2;
  const r1 = sqrtmSymmetric(c1, d);
  const middle = matmul(matmul(r1, c2, d), r1, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) middle[i * d + j] = middle[j * d + i] = (middle[i * d + j]! + middle[j * d + i]!) / 2;
  const { values } = symmetricEigen(middle, d);
  let trace = 0;
  for (let i = 0; i < d; i++) trace += c1[i * d + i]! + c2[i * d + i]!;
  for (const v of values) trace -= 2 * Math.sqrt(Math.max(0, v));
  return dist + trace;
}

/** FID between two feature sets (rows of width d). */
export function fid(a: ArrayLike<number>, b: ArrayLike<number>, d: number): number {
  const x = meanAndCovariance(a, d);
  const y = meanAndCovariance(b, d);
  return frechetDistance(x.mean, x.cov, y.mean, y.cov, d);
}
