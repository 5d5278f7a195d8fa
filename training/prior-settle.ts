/**
 * How many encode–decode round trips (lib/settle.ts) the studio should run
 * on each sample: measured with the judge at the studio's default
 * temperature, each count on the same samples (the trips are cumulative, so
 * measuring 1, 2, 4 and 8 costs 8 round trips, not 15). The count shipped is
 * the one whose faces the judge reads clearly most often while their FID
 * stays at or below the raw samples' (settling must not trade variety for
 * clarity); none when no count clears that.
 */
import type * as tf from '@tensorflow/tfjs';
import { samplePriorSeeded, decodedReader, measureRow, medianNearestDistance, type Reference, type SamplerRow } from './prior-measure.ts';
import type { LatentPrior } from '../lib/prior.ts';
import { describePrior } from '../lib/prior.ts';
import type { Judge } from './judge.ts';
import { settleWith } from './settle-node.ts';

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
  /** The raw samples' FID at this temperature (the bar settling must not pass). */
  rawFid: number;
  trainCodes: Float32Array;
}

export interface SettleResult {
  rows: SamplerRow[];
  /** The count shipped (0: none). */
  chosen: number;
  msPerTripInNode: number;
  nearestTrainingCode: Record<string, number>;
  rule: string;
}

export const SETTLE_RULE = 'the count whose faces the judge reads confidently most often, among those whose FID is at most the raw samples\' FID';

export async function measureSettle(s: SettleInput, log: (r: SamplerRow) => void): Promise<SettleResult> {
  let z = samplePriorSeeded(s.prior, s.count, s.temperature, s.seed);
  let done = 0;
  let ms = 0;
  const rows: SamplerRow[] = [];
  const nearest: Record<string, number> = {};
  for (const n of s.trips) {
    const t0 = Date.now();
    z = await settleWith(s.encoder, s.decoder, z, n - done, s.d);
    ms += Date.now() - t0;
    done = n;
    const label = `learned prior (${describePrior(s.prior)}) at T = ${s.temperature}, settled by ${n} round trip${n > 1 ? 's' : ''}`;
    const row = { ...measureRow(s.judge, s.reference, decodedReader(s.decoder, z, s.d), s.count, { label, kind: 'settled', temperature: s.temperature }), trips: n };
    rows.push(row);
    log(row);
    nearest[String(n)] = Math.round(medianNearestDistance(z.slice(0, 300 * s.d), s.trainCodes, s.d) * 1000) / 1000;
  }
  const eligible = rows.filter((r) => r.fid <= s.rawFid);
  const best = eligible.reduce<SamplerRow | null>((a, r) => (!a || r.confident > a.confident ? r : a), null);
  return {
    rows,
    chosen: best?.trips ?? 0,
    msPerTripInNode: done ? Math.round((ms / (done * s.count)) * 100) / 100 : 0,
    nearestTrainingCode: nearest,
    rule: SETTLE_RULE,
  };
}
