/**
 * A face-dependent move for attributes one straight line cannot add: the
 * optimal transport between two Gaussians fitted to the codes of faces
 * without the attribute and with it (the Monge map of the 2-Wasserstein
 * distance). With means m0, m1 and covariances S0, S1,
 *
 *   T(z) = m1 + A (z - m0),   A = S0^-1/2 (S0^1/2 S1 S0^1/2)^1/2 S0^-1/2,
 *
 * is the affine map that carries the first Gaussian onto the second while
 * moving codes as little as possible on average. Where the faces without the
 * attribute spread along something the attribute pins down (every bald head
 * is bald in the same way; hair of any length has to go), A contracts that
 * spread, so each face gets its own move: a long-haired face travels further
 * than a crew cut. The plain mean difference is the special case A = I.
 *
 * A is symmetric, so for a row vector z the map is z·A + (m1 - m0·A): the
 * row-major { matrix, offset } form lib/steer.ts applies.
 */
import type { AffineMap } from '../lib/bundle.ts';
import type { LabelledCodes } from './directions.ts';
import { matmul, symmetricFunction } from './linalg.ts';

/** Added to each covariance's diagonal: keeps directions no face varies along invertible. */
export const COVARIANCE_RIDGE = 1e-3;

/** Mean and covariance (plus COVARIANCE_RIDGE on the diagonal) of the rows `rows` of z (n×d). */
export function gaussianOf(z: ArrayLike<number>, d: number, rows: readonly number[]): { mean: Float64Array; cov: Float64Array } {
  if (rows.length < 2) throw new Error(`a Gaussian needs at least 2 codes, got ${rows.length}`);
  const mean = new Float64Array(d);
  for (const i of rows) for (let q = 0; q < d; q++) mean[q]! += z[i * d + q]! / rows.length;
  const cov = new Float64Array(d * d);
  const x = new Float64Array(d);
  for (const i of rows) {
    for (let q = 0; q < d; q++) x[q] = z[i * d + q]! - mean[q]!;
    for (let a = 0; a < d; a++) for (let b = a; b < d; b++) cov[a * d + b]! += (x[a]! * x[b]!) / (rows.length - 1);
  }
  for (let a = 0; a < d; a++) {
    cov[a * d + a]! += COVARIANCE_RIDGE;
    for (let b = 0; b < a; b++) cov[a * d + b] = cov[b * d + a]!;
  }
  return { mean, cov };
}

/** The optimal transport map between two Gaussians, as z·matrix + offset for a row vector z. */
export function transportBetween(from: { mean: Float64Array; cov: Float64Array }, to: { mean: Float64Array; cov: Float64Array }, d: number): AffineMap {
  const root = symmetricFunction(from.cov, d, Math.sqrt);
  const inverseRoot = symmetricFunction(from.cov, d, (x) => (x > 0 ? 1 / Math.sqrt(x) : 0));
  const middle = symmetricFunction(symmetrise(matmul(matmul(root, to.cov, d), root, d), d), d, Math.sqrt);
  const a = symmetrise(matmul(matmul(inverseRoot, middle, d), inverseRoot, d), d);
  const offset = Float64Array.from(to.mean);
  for (let q = 0; q < d; q++) for (let k = 0; k < d; k++) offset[q]! -= from.mean[k]! * a[k * d + q]!;
  return { matrix: Array.from(a), offset: Array.from(offset) };
}

function symmetrise(m: Float64Array, n: number): Float64Array {
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const x = (m[i * n + j]! + m[j * n + i]!) / 2;
      m[i * n + j] = x;
      m[j * n + i] = x;
    }
  }
  return m;
}

/**
 * The transport from the codes without `name` to the codes with it (only
 * rows where `mask` is set, when given).
 */
export function attributeTransport(c: LabelledCodes, name: string, mask?: Uint8Array): AffineMap {
  const j = c.names.indexOf(name);
  if (j < 0) throw new Error(`no labels for ${name}`);
  const without: number[] = [];
  const withIt: number[] = [];
  for (let i = 0; i < c.n; i++) {
    if (mask && !mask[i]) continue;
    (c.labels[i * c.names.length + j]! > 0 ? withIt : without).push(i);
  }
  return transportBetween(gaussianOf(c.z, c.d, without), gaussianOf(c.z, c.d, withIt), c.d);
}
