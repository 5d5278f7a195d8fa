/**
 * The round-trip correction (training/settle-correction.ts) and the build's
 * rule for the shipped count (training/prior-settle.ts), on hand-checked cases.
 */
import { describe, expect, it } from 'vitest';
import { fitAffine, solve } from '../../training/settle-correction.ts';
import { chooseTrips, FID_BAR } from '../../training/prior-settle.ts';
import type { SamplerRow } from '../../training/prior-measure.ts';

describe('the affine correction of round trips', () => {
  it('solves a small linear system by hand: [[2, 1], [1, 3]] X = [[3], [5]] gives X = [0.8, 1.4]', () => {
    const x = solve(Float64Array.from([2, 1, 1, 3]), Float64Array.from([3, 5]), 2, 1);
    expect(x[0]).toBeCloseTo(0.8, 10);
    expect(x[1]).toBeCloseTo(1.4, 10);
  });

  it('recovers the affine map that sends inputs to targets (no ridge)', () => {
    const d = 2;
    const M = [0.9, -0.2, 0.1, 1.05];
    const b = [0.3, -0.4];
    const inputs = Float32Array.from([0, 0, 1, 0, 0, 1, 1, 1, -2, 0.5, 0.7, -1.3]);
    const targets = new Float32Array(inputs.length);
    for (let i = 0; i < inputs.length / d; i++) {
      for (let k = 0; k < d; k++) targets[i * d + k] = inputs[i * d]! * M[k]! + inputs[i * d + 1]! * M[d + k]! + b[k]!;
    }
    const fit = fitAffine(inputs, targets, d, 0);
    Array.from(fit.matrix).forEach((v, i) => expect(v).toBeCloseTo(M[i]!, 4));
    Array.from(fit.offset).forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 4));
  });

  it('a ridge shrinks the matrix toward zero and refuses nothing finite', () => {
    const inputs = Float32Array.from([1, 2, 3, 4]);
    const fit = fitAffine(inputs, inputs, 1, 100);
    expect(Math.abs(fit.matrix[0]!)).toBeLessThan(1);
  });

  it('a singular system says so', () => {
    expect(() => solve(Float64Array.from([0, 0, 0, 0]), Float64Array.from([1, 1]), 2, 1)).toThrow(/singular/);
  });
});

describe('the build\'s rule for how many round trips to ship', () => {
  const row = (trips: number, fid: number, confident: number): SamplerRow => ({ label: '', kind: 'settled', trips, fid, confident, count: 1200 });

  it('takes the fewest trips within one point of the best share among those within the FID bar', () => {
    const rows = [row(2, 20, 0.5), row(4, 24, 0.64), row(8, 30, 0.741), row(10, 35, 0.761), row(12, 38, 0.765), row(16, 46, 0.8)];
    // Reconstructions at 15: the bar is 45, so 16 trips (FID 46) is out; 12 is best (76.5%), 10 is within a point of it.
    expect(FID_BAR * 15).toBe(45);
    expect(chooseTrips(rows, 15)).toBe(10);
    // A tighter bar (reconstructions at 10: FID <= 30) leaves 2, 4 and 8.
    expect(chooseTrips(rows, 10)).toBe(8);
  });

  it('ships none when no count clears the bar', () => {
    expect(chooseTrips([row(2, 50, 0.6)], 10)).toBe(0);
    expect(chooseTrips([], 10)).toBe(0);
  });
});
