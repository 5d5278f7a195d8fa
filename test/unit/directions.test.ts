import { describe, expect, it } from 'vitest';
import { balancedDifference, confounders, cosine, exclusive, logisticProbe, meanDifference, regressionDirection, solveSpd, type LabelledCodes } from '../../training/directions.ts';
import { mulberry32 } from '../../lib/random.ts';
import { fillNormal } from '../../lib/prior.ts';

/**
 * Codes with planted directions: z = 1.5·A·uA + 1.5·B·uB + noise, where B
 * comes with A 85% of the time and without it 15%; C is unrelated.
 */
function planted(n = 6000, d = 8, seed = 3): { codes: LabelledCodes; uA: Float64Array; uB: Float64Array } {
  const rand = mulberry32(seed);
  const noise = new Float64Array(n * d);
  fillNormal(noise, rand);
  const uA = new Float64Array(d); uA[0] = 0.6; uA[1] = 0.8;
  const uB = new Float64Array(d); uB[2] = 1;
  const names = ['A', 'B', 'C'];
  const labels = new Int8Array(n * 3);
  const z = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const a = rand() < 0.4;
    const b = rand() < (a ? 0.85 : 0.15);
    const c = rand() < 0.5;
    labels.set([a ? 1 : -1, b ? 1 : -1, c ? 1 : -1], i * 3);
    for (let q = 0; q < d; q++) z[i * d + q] = 1.5 * (a ? uA[q]! : 0) + 1.5 * (b ? uB[q]! : 0) + 0.7 * noise[i * d + q]!;
  }
  return { codes: { z, d, n, labels, names }, uA, uB };
}

describe('attribute directions on codes with a planted direction', () => {
  const { codes, uA, uB } = planted();

  it('the plain mean difference leans toward the correlated attribute', () => {
    const md = meanDifference(codes, 'A');
    expect(cosine(md, uA)).toBeLessThan(0.85);
    expect(cosine(md, uB)).toBeGreaterThan(0.5);
  });

  it('picks the correlated attribute to balance on, not the unrelated one', () => {
    expect(confounders(codes, 'A', ['B', 'C'])).toEqual(['B']);
  });

  it('the balanced difference and the regression recover the planted direction', () => {
    expect(cosine(balancedDifference(codes, 'A', ['B']), uA)).toBeGreaterThan(0.99);
    expect(cosine(regressionDirection(codes, 'A', ['B', 'C']), uA)).toBeGreaterThan(0.99);
  });

  it('the probe separates the attribute better than chance and points closer to it than the mean difference', () => {
    const probe = logisticProbe(codes, 'A');
    expect(probe.accuracy).toBeGreaterThan(0.8);
    expect(cosine(probe.w, uA)).toBeGreaterThan(cosine(meanDifference(codes, 'A'), uA));
    expect(cosine(probe.w, uA)).toBeGreaterThan(0.9);
  });

  it('fits only the faces in a mask when given one', () => {
    const mask = Uint8Array.from({ length: codes.n }, (_, i) => (codes.labels[i * 3 + 1]! > 0 ? 1 : 0));
    // Among faces with B, A no longer drags B along: the plain difference is clean there.
    expect(cosine(meanDifference(codes, 'A', mask), uA)).toBeGreaterThan(0.98);
  });

  it('tells exclusive attributes apart from co-occurring ones', () => {
    expect(exclusive(codes, 'A', 'B')).toBe(false);
    const c: LabelledCodes = { z: new Float32Array(4), d: 1, n: 4, labels: Int8Array.from([1, -1, -1, 1, -1, -1, -1, -1]), names: ['X', 'Y'] };
    expect(exclusive(c, 'X', 'Y')).toBe(true);
  });

  it('names an attribute it has no labels for', () => {
    expect(() => meanDifference(codes, 'Nope')).toThrow(/no labels for attribute Nope/);
  });
});

describe('solveSpd', () => {
  it('solves a small symmetric positive-definite system and refuses an indefinite one', () => {
    const x = solveSpd(Float64Array.from([4, 1, 1, 3]), Float64Array.from([1, 2]), 2);
    expect(x[0]).toBeCloseTo(1 / 11, 10);
    expect(x[1]).toBeCloseTo(7 / 11, 10);
    expect(() => solveSpd(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]), 2)).toThrow(/positive definite/);
  });
});
