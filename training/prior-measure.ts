/**
 * How believable sampled faces are, measured the way a visitor meets them:
 * decode the sampler's codes, show them to an independent judge (training/
 * judge.ts) and compare with held-out real faces. Every row uses the same
 * number of images against the same reference set, so the FIDs compare.
 */
import * as tf from '@tensorflow/tfjs';
import type { LatentPrior } from '../lib/prior.ts';
import { fillNormal, samplePrior } from '../lib/prior.ts';
import type { Split } from './data/types.ts';
import { mulberry32 } from '../lib/random.ts';
import { fid } from './fid.ts';
import { confidentShare, FEATURE_UNITS, judgeImages, type Judge } from './judge.ts';

export interface SamplerRow {
  /** What was decoded, in words ("N(0, I) at T = 0.7", "learned prior (mixture of 40) at T = 1"). */
  label: string;
  kind: 'real' | 'reconstruction' | 'normal' | 'prior' | 'settled';
  /** 'settled': the encode–decode round trips each sample took (lib/settle.ts). */
  trips?: number;
  temperature?: number;
  fid: number;
  confident: number;
  count: number;
}

/** Codes from N(0, T² I), seeded. */
export function sampleNormal(count: number, d: number, temperature: number, seed: number): Float32Array {
  const eps = new Float64Array(count * d);
  fillNormal(eps, mulberry32(seed));
  return Float32Array.from(eps, (v) => v * temperature);
}

export function samplePriorSeeded(prior: LatentPrior, count: number, temperature: number, seed: number): Float32Array {
  return samplePrior(prior, count, temperature, mulberry32(seed));
}

/** Decoded images of codes [n × d] as float pixels, read in blocks by index (for judgeImages). */
export function decodedReader(decoder: tf.LayersModel, z: Float32Array, d: number): (idx: Int32Array) => Float32Array {
  return (idx) => {
    const block = new Float32Array(idx.length * d);
    idx.forEach((i, k) => block.set(z.subarray(i * d, i * d + d), k * d));
    return tf.tidy(() => (decoder.predict(tf.tensor2d(block, [idx.length, d])) as tf.Tensor).dataSync() as Float32Array);
  };
}

/** The judge's view of a reference set: features for FID. */
export interface Reference {
  features: Float32Array;
  count: number;
}

export function splitReader(split: Split, offset: number): (idx: Int32Array) => Float32Array {
  return (idx) => split.read(Int32Array.from(idx, (i) => i + offset));
}

export function judgeReference(judge: Judge, read: (idx: Int32Array) => Float32Array, count: number): Reference {
  return { features: judgeImages(judge, read, count).features, count };
}

/** One row: judge `count` images from `read` against the reference. */
export function measureRow(judge: Judge, reference: Reference, read: (idx: Int32Array) => Float32Array, count: number, row: Omit<SamplerRow, 'fid' | 'confident' | 'count'>): SamplerRow {
  const { features, probs } = judgeImages(judge, read, count);
  return { ...row, fid: round(fid(features, reference.features, FEATURE_UNITS), 2), confident: round(confidentShare(probs, judge.attributes.length), 4), count };
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Memorisation check: the median distance from each code in `queries` to its
 * nearest neighbour in `train` (all flat, width d). Samples of a density sit
 * about as far from the training codes as held-out faces do; a lookup of
 * training codes would sit at 0.
 */
export function medianNearestDistance(queries: Float32Array, train: Float32Array, d: number): number {
  const nq = queries.length / d;
  const nt = train.length / d;
  const best = new Float64Array(nq);
  for (let q = 0; q < nq; q++) {
    let min = Infinity;
    for (let t = 0; t < nt; t++) {
      let s = 0;
      for (let j = 0; j < d && s < min; j++) {
        const v = queries[q * d + j]! - train[t * d + j]!;
        s += v * v;
      }
      if (s < min) min = s;
    }
    best[q] = Math.sqrt(min);
  }
  best.sort();
  return nq ? (nq % 2 ? best[(nq - 1) / 2]! : (best[nq / 2 - 1]! + best[nq / 2]!) / 2) : 0;
}
