/**
 * How the studio settles each sample (lib/settle.ts): first the round-trip
 * correction is fitted on training codes (training/settle-correction.ts) and
 * the step set (corrected, over-relaxed by `relax`); then each round-trip
 * count is measured with the judge at the studio's default temperature, on
 * the same samples (the trips are cumulative, so measuring 2, 4 and 8 costs 8
 * round trips, not 14). The count shipped: among the counts whose FID stays
 * within 3x that of reconstructions (the variety bar), the fewest
 * whose faces the judge reads clearly within one point of the best of them;
 * none when no count clears the bar.
 */
import type * as tf from '@tensorflow/tfjs';
import { samplePriorSeeded, decodedReader, measureRow, medianNearestDistance, type Reference, type SamplerRow } from './prior-measure.ts';
import type { LatentPrior } from '../lib/prior.ts';
import { describePrior } from '../lib/prior.ts';
import type { Judge } from './judge.ts';
import { settleWith } from './settle-node.ts';
import { fitCorrection, type Correction } from './settle-correction.ts';
import type { SettleStep } from '../lib/settle.ts';

export interface SettleInput {
  encoder: tf.LayersModel;
  decoder: tf.LayersModel;
  judge: Judge;
  reference: Reference;
  prior: LatentPrior;
  temperature: number;
  count: number;
  seed: number;
  d: number;
  /** Round-trip counts to measure, ascending. */
  trips: number[];
  /** The reconstructions' FID: settled samples must stay within FID_BAR times it. */
  reconstructionFid: number;
  /** Over-relaxation of each trip (lib/settle.ts); 1: none. */
  relax: number;
  trainCodes: Float32Array;
}

export interface SettleResult {
  rows: SamplerRow[];
  /** The count shipped (0: none). */
  chosen: number;
  msPerTripInNode: number;
  step: SettleStep;
  /** How well the correction sends training codes' round trips home. */
  correction: Omit<Correction, 'correction'>;
  nearestTrainingCode: Record<string, number>;
  rule: string;
}

/** Settled samples' FID may be at most this many times the reconstructions' (the bar for the prior). */
export const FID_BAR = 3;
/** A count within this share of the best eligible one is as good: fewer trips are then chosen. */
export const SHARE_TOLERANCE = 0.01;

export const SETTLE_RULE = `the fewest round trips whose faces the judge reads confidently within ${100 * SHARE_TOLERANCE} point of the most often, among those whose FID is at most ${FID_BAR}x that of reconstructions`;

/** The count the rule picks from measured rows (0: none clears the bar). */
export function chooseTrips(rows: SamplerRow[], reconstructionFid: number): number {
  const eligible = rows.filter((r) => r.fid <= FID_BAR * reconstructionFid && typeof r.trips === 'number');
  if (eligible.length === 0) return 0;
  const best = Math.max(...eligible.map((r) => r.confident));
  return Math.min(...eligible.filter((r) => r.confident >= best - SHARE_TOLERANCE - 1e-9).map((r) => r.trips!));
}

export async function measureSettle(s: SettleInput, log: (r: SamplerRow) => void): Promise<SettleResult> {
  const fitted = await fitCorrection(s.encoder, s.decoder, s.trainCodes, s.d);
  console.log(`Round-trip correction fitted on ${fitted.codes} training codes: a code's round trip lands ${fitted.error.plain.toFixed(3)} from it, ${fitted.error.corrected.toFixed(3)} corrected.`);
  const step: SettleStep = { relax: s.relax, correction: fitted.correction };
  let z = samplePriorSeeded(s.prior, s.count, s.temperature, s.seed);
  let done = 0;
  let ms = 0;
  const rows: SamplerRow[] = [];
  const nearest: Record<string, number> = {};
  for (const n of s.trips) {
    const t0 = Date.now();
    z = await settleWith(s.encoder, s.decoder, z, n - done, s.d, step);
    ms += Date.now() - t0;
    done = n;
    const label = `learned prior (${describePrior(s.prior)}) at T = ${s.temperature}, settled by ${n} corrected round trip${n > 1 ? 's' : ''}`;
    const row = { ...measureRow(s.judge, s.reference, decodedReader(s.decoder, z, s.d), s.count, { label, kind: 'settled', temperature: s.temperature }), trips: n };
    rows.push(row);
    log(row);
    nearest[String(n)] = Math.round(medianNearestDistance(z.slice(0, 300 * s.d), s.trainCodes, s.d) * 1000) / 1000;
  }
  return {
    rows,
    chosen: chooseTrips(rows, s.reconstructionFid),
    step,
    correction: { error: fitted.error, codes: fitted.codes },
    msPerTripInNode: done ? Math.round((ms / (done * s.count)) * 100) / 100 : 0,
    nearestTrainingCode: nearest,
    rule: SETTLE_RULE,
  };
}
