import { describe, expect, it } from 'vitest';
import {
  componentLogDensity,
  decodePrior,
  encodePrior,
  packedSize,
  parsePriorFile,
  pickComponent,
  priorLogDensity,
  samplePrior,
  type GaussianMixturePrior,
} from '../../lib/prior.ts';
import { mulberry32 } from '../../lib/random.ts';
import { alphaBar, ddimSchedule, predictNoise, timeFeatures, type DiffusionPrior } from '../../lib/prior-diffusion.ts';
import { fitDiffusionPrior } from '../../training/prior-diffusion-fit.ts';
import { choleskyPacked, fitGaussianMixture } from '../../training/prior-fit.ts';
import { fid, frechetDistance, meanAndCovariance, sqrtmSymmetric, symmetricEigen } from '../../training/fid.ts';
import { confidentShare } from '../../training/judge.ts';
import { medianNearestDistance, sampleNormal } from '../../training/prior-measure.ts';

/** Two components in 2-D: N((0,0), diag(1, 4)) with weight 0.25 and N((20,-5), [[4,2],[2,2]]) with weight 0.75. */
function twoComponents(): GaussianMixturePrior {
  // Cholesky of [[4,2],[2,2]] is [[2,0],[1,1]]; of diag(1,4) is diag(1,2). Packed rows: [l00, l10, l11].
  return {
    kind: 'gmm',
    latentDim: 2,
    weights: Float64Array.from([0.25, 0.75]),
    means: Float32Array.from([0, 0, 20, -5]),
    chol: Float32Array.from([1, 0, 2, 2, 1, 1]),
  };
}

function stats(z: Float32Array, d: number): { mean: number[]; cov: number[] } {
  const { mean, cov } = meanAndCovariance(z, d);
  return { mean: Array.from(mean), cov: Array.from(cov) };
}

describe('the learned prior (lib/prior.ts)', () => {
  it('draws count × latentDim numbers, and the same seed gives the same points', () => {
    const p = twoComponents();
    const a = samplePrior(p, 7, 1, mulberry32(3));
    const b = samplePrior(p, 7, 1, mulberry32(3));
    const c = samplePrior(p, 7, 1, mulberry32(4));
    expect(a.length).toBe(14);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(samplePrior(p, 0, 1, mulberry32(1)).length).toBe(0);
  });

  it('at temperature 0 gives the component means: the modes of its parts', () => {
    const p = twoComponents();
    const z = samplePrior(p, 200, 0, mulberry32(9));
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(`${z[2 * i]},${z[2 * i + 1]}`);
    expect([...seen].sort()).toEqual(['0,0', '20,-5']);
  });

  it('matches the mixture it describes: weights, means and covariances of many samples', () => {
    const p = twoComponents();
    const z = samplePrior(p, 40000, 1, mulberry32(11));
    const far = Array.from({ length: 40000 }, (_, i) => z[2 * i]! > 10);
    const share = far.filter(Boolean).length / 40000;
    expect(share).toBeCloseTo(0.75, 1.5);
    const second = Float32Array.from(z.filter((_, k) => far[Math.floor(k / 2)]));
    const s = stats(second, 2);
    expect(s.mean[0]).toBeCloseTo(20, 1);
    expect(s.mean[1]).toBeCloseTo(-5, 1);
    // Σ = L Lᵀ = [[4, 2], [2, 2]]
    expect(s.cov[0]).toBeCloseTo(4, 0.7);
    expect(s.cov[1]).toBeCloseTo(2, 0.7);
    expect(s.cov[3]).toBeCloseTo(2, 0.7);
  });

  it('temperature scales each component\'s spread, not the distance between them', () => {
    const p = twoComponents();
    const z = samplePrior(p, 20000, 0.5, mulberry32(12));
    const second = Float32Array.from(z.filter((_, k) => z[2 * Math.floor(k / 2)]! > 10));
    const s = stats(second, 2);
    expect(s.mean[0]).toBeCloseTo(20, 1);
    expect(s.cov[0]).toBeCloseTo(4 * 0.25, 1);
  });

  it('log density matches hand-computed values', () => {
    const p = twoComponents();
    // Component 0 at its mean: -log(1·2) - log(2π) = -log(4π).
    expect(componentLogDensity(p, 0, [0, 0])).toBeCloseTo(-Math.log(4 * Math.PI), 10);
    // Component 1 at (22, -5): diff (2, 0); Σ⁻¹ = [[0.5, -0.5], [-0.5, 1]]; quad = 2; det Σ = 4.
    expect(componentLogDensity(p, 1, [22, -5])).toBeCloseTo(-1 - 0.5 * Math.log(4) - Math.log(2 * Math.PI), 10);
    // Far from component 1, the mixture is component 0 weighted by 0.25.
    expect(priorLogDensity(p, [0, 0])).toBeCloseTo(Math.log(0.25) - Math.log(4 * Math.PI), 6);
  });

  it('picks components by weight', () => {
    expect(pickComponent([0.25, 0.75], 0)).toBe(0);
    expect(pickComponent([0.25, 0.75], 0.2499)).toBe(0);
    expect(pickComponent([0.25, 0.75], 0.25)).toBe(1);
    expect(pickComponent([0.25, 0.75], 0.99999)).toBe(1);
  });

  it('refuses a bad count or temperature', () => {
    expect(() => samplePrior(twoComponents(), -1, 1, Math.random)).toThrow(/count/);
    expect(() => samplePrior(twoComponents(), 1, -0.5, Math.random)).toThrow(/temperature/);
    expect(() => samplePrior(twoComponents(), 1, NaN, Math.random)).toThrow(/temperature/);
  });

  it('round-trips through prior.json + prior.bin, float16 and float32', () => {
    const p = twoComponents();
    for (const dtype of ['float16', 'float32'] as const) {
      const { json, bin } = encodePrior(p, { dtype });
      expect(bin.length).toBe((4 + 6) * (dtype === 'float16' ? 2 : 4));
      const back = decodePrior(parsePriorFile(JSON.parse(JSON.stringify(json)), 2), bin) as GaussianMixturePrior;
      expect(Array.from(back.means)).toEqual(Array.from(p.means));
      expect(Array.from(back.chol)).toEqual(Array.from(p.chol));
      expect(Array.from(back.weights)).toEqual([0.25, 0.75]);
    }
  });

  it('carries the studio\'s settle count through prior.json, and leaves it out when there is none', () => {
    const { json, bin } = encodePrior({ ...twoComponents(), settle: 6 });
    expect(json.settle).toBe(6);
    expect(decodePrior(parsePriorFile(JSON.parse(JSON.stringify(json)), 2), bin).settle).toBe(6);
    const plain = encodePrior(twoComponents());
    expect('settle' in plain.json).toBe(false);
    expect(decodePrior(parsePriorFile(plain.json, 2), plain.bin).settle).toBeUndefined();
  });

  it('carries the settle step (relaxation and correction) with the count, and never without one', () => {
    const settleStep = { relax: 2, correction: { matrix: Float32Array.of(1, 0.1, 0, 0.9), offset: Float32Array.of(0.05, -0.05) } };
    const { json, bin } = encodePrior({ ...twoComponents(), settle: 4, settleStep });
    expect(json.settleStep).toEqual({ relax: 2, correction: { matrix: [1, 0.1, 0, 0.9], offset: [0.05, -0.05] } });
    const back = decodePrior(parsePriorFile(JSON.parse(JSON.stringify(json)), 2), bin);
    expect(back.settle).toBe(4);
    expect(back.settleStep!.relax).toBe(2);
    Array.from(back.settleStep!.correction!.matrix).forEach((v, i) => expect(v).toBeCloseTo(settleStep.correction.matrix[i]!, 6));
    expect('settleStep' in encodePrior({ ...twoComponents(), settleStep }).json).toBe(false);
  });

  it('says what is wrong with a damaged prior', () => {
    const { json, bin } = encodePrior(twoComponents());
    const bad: [unknown, RegExp][] = [
      [[], /must be a JSON object/],
      [{ ...json, format: 9 }, /prior format 9 is not supported/],
      [{ ...json, kind: 'flow' }, /prior kind "flow" is not supported/],
      [{ ...json, latentDim: 3 }, /"latentDim" is 3 but the model's latent space has 2 dimensions/],
      [{ ...json, weights: [0.5] }, /"weights" must be 2 numbers/],
      [{ ...json, weights: [0.5, 0.6] }, /must sum to 1/],
      [{ ...json, data: '../../etc/passwd' }, /relative path inside the bundle/],
      [{ ...json, dtype: 'int8' }, /"dtype"/],
      [{ ...json, settle: -1 }, /"settle" must be a whole number of round trips from 0 to 32/],
      [{ ...json, settle: 2.5 }, /"settle" must be a whole number/],
      [{ ...json, settle: 99 }, /"settle" must be a whole number/],
      [{ ...json, settle: 2, settleStep: { relax: 9 } }, /prior.json: the relaxation of a round trip must be above 0 and at most 3, got 9/],
      [{ ...json, settle: 2, settleStep: { relax: 2, correction: { matrix: [1], offset: [0, 0] } } }, /"settleStep.correction.matrix" must be 4 finite numbers/],
    ];
    for (const [j, message] of bad) expect(() => parsePriorFile(j, 2), JSON.stringify(j).slice(0, 60)).toThrow(message);
    const file = parsePriorFile(json, 2);
    expect(() => decodePrior(file, bin.subarray(0, 10))).toThrow(/has 10 bytes, expected 20 .* truncated/);
    const flipped = bin.slice();
    flipped.set([0, 0x80], 2 * 4); // first Cholesky diagonal -> -0
    expect(() => decodePrior(file, flipped)).toThrow(/diagonal entry <= 0/);
  });
});

describe('fitting the prior (training/prior-fit.ts)', () => {
  it('Cholesky of a hand-checked matrix', () => {
    expect(Array.from(choleskyPacked(Float64Array.from([4, 2, 2, 2]), 2))).toEqual([2, 1, 1]);
    expect(() => choleskyPacked(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite/);
  });

  it('EM recovers a planted two-component mixture', () => {
    const truth = twoComponents();
    const z = samplePrior(truth, 4000, 1, mulberry32(21));
    const { prior, logLikelihood } = fitGaussianMixture(z, 2, { components: 2, iterations: 50, seed: 2, regularisation: 1e-6 });
    const order = prior.means[0]! < 10 ? [0, 1] : [1, 0];
    expect(prior.weights[order[0]!]).toBeCloseTo(0.25, 1.5);
    expect(prior.means[order[1]! * 2]).toBeCloseTo(20, 0.7);
    expect(prior.means[order[1]! * 2 + 1]).toBeCloseTo(-5, 0.7);
    const L = Array.from(prior.chol.subarray(order[1]! * packedSize(2), order[1]! * packedSize(2) + 3));
    expect(L[0]).toBeCloseTo(2, 0.7);
    expect(L[1]).toBeCloseTo(1, 0.7);
    expect(L[2]).toBeCloseTo(1, 0.7);
    // EM never lowers the likelihood.
    for (let i = 1; i < logLikelihood.length; i++) expect(logLikelihood[i]!).toBeGreaterThanOrEqual(logLikelihood[i - 1]! - 1e-9);
  });

  it('refuses too few points for the components asked', () => {
    expect(() => fitGaussianMixture(new Float32Array(10), 2, { components: 40 })).toThrow(/needs at least 80 points, got 5/);
  });
});

describe('FID and the judge\'s measures', () => {
  it('eigen-decomposes and square-roots symmetric matrices', () => {
    const { values } = symmetricEigen([2, 1, 1, 2], 2);
    expect(Array.from(values).sort()).toEqual([expect.closeTo(1, 10), expect.closeTo(3, 10)]);
    const r = sqrtmSymmetric([4, 2, 2, 2], 2);
    // r · r = the matrix
    expect(r[0]! * r[0]! + r[1]! * r[2]!).toBeCloseTo(4, 10);
    expect(r[0]! * r[1]! + r[1]! * r[3]!).toBeCloseTo(2, 10);
  });

  it('Fréchet distance of Gaussians: hand-checked cases', () => {
    // 1-D: (μ1 - μ2)² + (σ1 - σ2)²
    expect(frechetDistance(Float64Array.from([1]), Float64Array.from([4]), Float64Array.from([3]), Float64Array.from([1]), 1)).toBeCloseTo(4 + 1, 10);
    // Diagonal 2-D: sums per axis.
    const d = frechetDistance(Float64Array.from([0, 0]), Float64Array.from([1, 0, 0, 9]), Float64Array.from([1, 1]), Float64Array.from([4, 0, 0, 1]), 2);
    expect(d).toBeCloseTo(2 + 1 + 4, 10);
  });

  it('FID of a set against itself is 0, and grows with a shift', () => {
    const a = sampleNormal(3000, 4, 1, 1);
    const b = sampleNormal(3000, 4, 1, 2);
    expect(fid(a, a, 4)).toBeCloseTo(0, 6);
    expect(fid(a, b, 4)).toBeLessThan(0.05);
    const shifted = a.map((v, i) => (i % 4 === 0 ? v + 2 : v));
    expect(fid(shifted, b, 4)).toBeCloseTo(4, 0.5);
  });

  it('confident share counts images whose every attribute is read with p ≥ 0.9 or ≤ 0.1', () => {
    // Three images, two attributes each.
    expect(confidentShare([0.95, 0.02, 0.5, 0.99, 0.1, 0.9], 2)).toBeCloseTo(2 / 3, 10);
    expect(confidentShare([], 2)).toBe(0);
  });

  it('nearest-neighbour distance: a copy of a training code sits at 0, a new point does not', () => {
    const train = Float32Array.from([0, 0, 3, 4, 10, 10]);
    expect(medianNearestDistance(Float32Array.from([3, 4]), train, 2)).toBe(0);
    expect(medianNearestDistance(Float32Array.from([0, 1, 3, 5, 6, 8]), train, 2)).toBe(1);
  });
});

describe('the latent diffusion prior (lib/prior-diffusion.ts)', () => {
  it('cosine schedule, DDIM steps and time features: hand-checked values', () => {
    expect(alphaBar(0, 1000)).toBe(1);
    expect(alphaBar(500, 1000)).toBeCloseTo(Math.cos(((0.5 + 0.008) / 1.008) * (Math.PI / 2)) ** 2 / Math.cos((0.008 / 1.008) * (Math.PI / 2)) ** 2, 12);
    for (let t = 1; t <= 1000; t += 37) expect(alphaBar(t, 1000)).toBeLessThan(alphaBar(t - 1, 1000) + 1e-12);
    expect(ddimSchedule(1000, 4)).toEqual([1000, 667, 334, 1]);
    const f = new Float64Array(4);
    timeFeatures(2, 4, f);
    [Math.sin(2), Math.sin(2 / 100), Math.cos(2), Math.cos(2 / 100)].forEach((v, i) => expect(f[i]).toBeCloseTo(v, 12));
  });

  it('runs the denoiser as written: one hand-checked layer', () => {
    const prior: DiffusionPrior = {
      kind: 'diffusion', latentDim: 1, mean: Float32Array.from([0]), std: Float32Array.from([1]), timeFeatures: 2, trainSteps: 10, sampleSteps: 2,
      layers: [{ inputs: 3, outputs: 1, kernel: Float32Array.from([2, 0, 0]), bias: Float32Array.from([0.5]) }],
    };
    // Last layer has no activation: 2·x + 0.5.
    expect(predictNoise(prior, [1.5], 3)[0]).toBeCloseTo(3.5, 6);
  });

  it('learns a planted two-cluster density; temperature 0 gives one point whatever the seed', () => {
    const truth = twoComponents();
    const z = samplePrior(truth, 3000, 1, mulberry32(31));
    const { prior } = fitDiffusionPrior(z, 2, { hidden: 48, depth: 2, timeFeatures: 16, steps: 1500, batch: 128, learningRate: 3e-3, trainSteps: 200, sampleSteps: 20, seed: 3 });
    const s = samplePrior(prior, 1000, 1, mulberry32(32));
    const right = Array.from({ length: 1000 }, (_, i) => s[2 * i]! > 10);
    const share = right.filter(Boolean).length / 1000;
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.9);
    const cluster = Float32Array.from(s.filter((_, k) => right[Math.floor(k / 2)]));
    const st = stats(cluster, 2);
    expect(Math.abs(st.mean[0]! - 20)).toBeLessThan(1);
    expect(Math.abs(st.mean[1]! + 5)).toBeLessThan(1);
    expect(Array.from(samplePrior(prior, 1, 0, mulberry32(1)))).toEqual(Array.from(samplePrior(prior, 1, 0, mulberry32(99))));
    // Its file round-trips.
    const { json, bin } = encodePrior(prior, { dtype: 'float32' });
    const back = decodePrior(parsePriorFile(JSON.parse(JSON.stringify(json)), 2), bin);
    expect(Array.from(samplePrior(back, 3, 1, mulberry32(4)))).toEqual(Array.from(samplePrior(prior, 3, 1, mulberry32(4))));
    expect(() => parsePriorFile({ ...json, layers: [[3, 48], [48, 2]] }, 2)).toThrow(/"layers" must run from 2 \+ timeFeatures inputs/);
  }, 60_000);
});
