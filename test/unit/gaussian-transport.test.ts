import { describe, expect, it } from 'vitest';
import { transportMove } from '../../lib/steer.ts';
import type { LabelledCodes } from '../../training/directions.ts';
import { meanDifference } from '../../training/directions.ts';
import { attributeTransport, gaussianOf, transportBetween } from '../../training/gaussian-transport.ts';
import { matmul, symmetricEigen, symmetricFunction } from '../../training/linalg.ts';
import { mulberry32 } from '../../lib/random.ts';

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

describe('symmetric eigendecomposition (Jacobi, training/linalg.ts)', () => {
  it('rebuilds the matrix from orthonormal eigenvectors', () => {
    const n = 6;
    const rand = mulberry32(3);
    const s = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) s[i * n + j] = s[j * n + i] = gaussian(rand);
    const { values, vectors } = symmetricEigen(s, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rebuilt = 0;
        let gram = 0;
        for (let k = 0; k < n; k++) {
          rebuilt += vectors[i * n + k]! * values[k]! * vectors[j * n + k]!;
          gram += vectors[k * n + i]! * vectors[k * n + j]!;
        }
        expect(rebuilt).toBeCloseTo(s[i * n + j]!, 9);
        expect(gram).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
  });
});

describe('Gaussian optimal transport', () => {
  it('recovers a planted symmetric positive-definite map between two Gaussians', () => {
    // Codes with the attribute are B·(codes without it) + shift, B symmetric positive definite: the optimal map is exactly that.
    const d = 3;
    const b = Float64Array.from([1.5, 0.2, 0, 0.2, 0.5, 0.1, 0, 0.1, 1]);
    const shift = [1, -2, 0.5];
    const rand = mulberry32(11);
    const n = 20000;
    const z0 = new Float64Array(n * d);
    const z1 = new Float64Array(n * d);
    for (let i = 0; i < n; i++) {
      const x = [gaussian(rand) * 2, gaussian(rand), gaussian(rand) * 0.7];
      for (let c = 0; c < d; c++) {
        z0[i * d + c] = x[c]!;
        z1[i * d + c] = shift[c]! + x.reduce((s, v, k) => s + v * b[k * d + c]!, 0);
      }
    }
    const rows = Array.from({ length: n }, (_, i) => i);
    const map = transportBetween(gaussianOf(z0, d, rows), gaussianOf(z1, d, rows), d);
    for (let k = 0; k < d * d; k++) expect(map.matrix[k]!).toBeCloseTo(b[k]!, 1);
    for (let c = 0; c < d; c++) expect(map.offset[c]!).toBeCloseTo(shift[c]!, 1);
  });

  it('moves each face to where the attribute is, where one mean difference fails the faces far from the average', () => {
    // Without the attribute, faces sit in two looks (x0 = -2 or +2); with it, all have x0 = 0 and x1 = 3.
    const rand = mulberry32(5);
    const n = 4000;
    const d = 2;
    const z = new Float32Array(n * d);
    const labels = new Int8Array(n);
    for (let i = 0; i < n; i++) {
      const has = i % 2 === 0;
      labels[i] = has ? 1 : -1;
      z[i * d] = (has ? 0 : i % 4 === 1 ? -2 : 2) + 0.1 * gaussian(rand);
      z[i * d + 1] = (has ? 3 : 0) + 0.3 * gaussian(rand);
    }
    const codes: LabelledCodes = { z, d, n, labels, names: ['Narrow_Eyes'] };
    const map = attributeTransport(codes, 'Narrow_Eyes');
    const mean = meanDifference(codes, 'Narrow_Eyes');
    expect(mean[0]!).toBeCloseTo(0, 1);
    for (const face of [[-2, 0], [2, 0]]) {
      const move = transportMove(map, face);
      const byMean = face.map((v, c) => v + mean[c]!);
      const byTransport = face.map((v, c) => v + move[c]!);
      // The mean difference leaves x0 where it was, two units from every face with the attribute; the transport brings it home.
      expect(Math.abs(byMean[0]!)).toBeGreaterThan(1.9);
      expect(Math.abs(byTransport[0]!)).toBeLessThan(0.3);
      expect(byTransport[1]!).toBeCloseTo(3, 1);
    }
  });

  it('needs two codes per side', () => {
    expect(() => gaussianOf(new Float32Array(4), 2, [0])).toThrow(/at least 2 codes/);
    expect(matmul(Float64Array.from([1, 2, 3, 4]), Float64Array.from([0, 1, 1, 0]), 2)).toEqual(Float64Array.from([2, 1, 4, 3]));
    // An inverse square root by the same route: S^-1/2 S S^-1/2 = I.
    const s = Float64Array.from([4, 1, 1, 3]);
    const r = symmetricFunction(s, 2, (x) => 1 / Math.sqrt(x));
    matmul(matmul(r, s, 2), r, 2).forEach((v, k) => expect(v).toBeCloseTo(k % 3 === 0 ? 1 : 0, 9));
  });
});
