/** Dense symmetric linear algebra on row-major d × d Float64Arrays: eigendecomposition, matrix functions, products. */

/** Eigenvalues and eigenvectors (columns of `vectors`) of a symmetric d × d matrix, by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: ArrayLike<number>, d: number, maxSweeps = 60): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < d; p++) {
      diag += a[p * d + p]! * a[p * d + p]!;
      for (let q = p + 1; q < d; q++) off += a[p * d + q]! * a[p * d + q]!;
    }
    if (off <= 1e-22 * Math.max(diag, 1e-300)) break;
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(d);
  for (let i = 0; i < d; i++) values[i] = a[i * d + i]!;
  return { values, vectors: v };
}

/** Square root of a symmetric positive semi-definite matrix (negative eigenvalues from rounding clipped to 0). */
export function sqrtmSymmetric(matrix: ArrayLike<number>, d: number): Float64Array {
  return symmetricFunction(matrix, d, Math.sqrt);
}

/** f(S) = V f(Λ) Vᵀ of a symmetric positive semi-definite matrix (eigenvalues clipped to 0 first; terms with f = 0 skipped). */
export function symmetricFunction(matrix: ArrayLike<number>, d: number, f: (x: number) => number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = f(Math.max(0, values[k]!));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = vectors[i * d + k]! * s;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + vik * vectors[j * d + k]!;
    }
  }
  return out;
}

export function matmul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j] = out[i * d + j]! + aik * b[k * d + j]!;
    }
  }
  return out;
}

