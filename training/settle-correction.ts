/**
 * The round-trip correction shipped with a prior (lib/settle.ts's
 * SettleStep): an affine map r·M + b fitted by ridge regression so that the
 * round trips r = E(D(z)) of training codes z land back on z. A plain round
 * trip of a real face's code drifts a little (0.45 in norm on the faces
 * model), always the same way (towards a smile, away from glasses and grey
 * hair); repeated on a sample, the drift adds up and the samples lose
 * variety. The correction removes the drift's linear part, so the trips keep
 * settling the looks a sample is caught between without walking it away
 * from where real faces lie.
 */
import type * as tf from '@tensorflow/tfjs';
import { applyStep, type SettleStep } from '../lib/settle.ts';
import { settleWith } from './settle-node.ts';

export interface Correction {
  correction: NonNullable<SettleStep['correction']>;
  /** Root mean square distance, over the fitted codes, from a code to its round trip: plain and corrected. */
  error: { plain: number; corrected: number };
  codes: number;
}

/** Solves (A) X = B in place for a symmetric positive definite A (m × m) and B (m × k), by Gauss–Jordan with pivoting. */
export function solve(A: Float64Array, B: Float64Array, m: number, k: number): Float64Array {
  for (let c = 0; c < m; c++) {
    let p = c;
    for (let r = c + 1; r < m; r++) if (Math.abs(A[r * m + c]!) > Math.abs(A[p * m + c]!)) p = r;
    if (A[p * m + c] === 0) throw new Error('the correction\'s normal equations are singular');
    if (p !== c) {
      for (let j = 0; j < m; j++) [A[c * m + j], A[p * m + j]] = [A[p * m + j]!, A[c * m + j]!];
      for (let j = 0; j < k; j++) [B[c * k + j], B[p * k + j]] = [B[p * k + j]!, B[c * k + j]!];
    }
    const pivot = A[c * m + c]!;
    for (let r = 0; r < m; r++) {
      const f = r === c ? 0 : A[r * m + c]! / pivot;
      if (!f) continue;
      for (let j = 0; j < m; j++) A[r * m + j]! -= f * A[c * m + j]!;
      for (let j = 0; j < k; j++) B[r * k + j]! -= f * B[c * k + j]!;
    }
  }
  for (let r = 0; r < m; r++) for (let j = 0; j < k; j++) B[r * k + j]! /= A[r * m + r]!;
  return B;
}

/** Ridge regression of `targets` on [inputs, 1] (both n × d): the d × d matrix and the d offsets. */
export function fitAffine(inputs: Float32Array, targets: Float32Array, d: number, lambda: number): NonNullable<SettleStep['correction']> {
  const n = inputs.length / d;
  const m = d + 1;
  const A = new Float64Array(m * m);
  const B = new Float64Array(m * d);
  const x = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[j] = inputs[i * d + j]!;
    x[d] = 1;
    for (let a = 0; a < m; a++) {
      const xa = x[a]!;
      for (let b = 0; b < m; b++) A[a * m + b]! += xa * x[b]!;
      for (let k = 0; k < d; k++) B[a * d + k]! += xa * targets[i * d + k]!;
    }
  }
  for (let j = 0; j < d; j++) A[j * m + j]! += lambda;
  const W = solve(A, B, m, d);
  return { matrix: Float32Array.from(W.subarray(0, d * d)), offset: Float32Array.from(W.subarray(d * d)) };
}

function rms(a: Float32Array, b: Float32Array, d: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s / (a.length / d));
}

/** Fits the correction on the first `count` training codes (flat, n × d). */
export async function fitCorrection(encoder: tf.LayersModel, decoder: tf.LayersModel, trainCodes: Float32Array, d: number, count = 4000, lambda = 1): Promise<Correction> {
  const codes = trainCodes.slice(0, Math.min(count, trainCodes.length / d) * d);
  const trips = await settleWith(encoder, decoder, codes, 1, d);
  const correction = fitAffine(trips, codes, d, lambda);
  const corrected = applyStep(codes, trips.slice(), { relax: 1, correction }, d);
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  return { correction, error: { plain: r3(rms(trips, codes, d)), corrected: r3(rms(corrected, codes, d)) }, codes: codes.length / d };
}
