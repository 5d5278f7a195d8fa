/**
 * The Gaussian transport as a candidate for adding an attribute: fit it on
 * every training face (training/gaussian-transport.ts), calibrate its
 * multiple on the calibration faces (the first multiple at which the judge
 * sees the attribute added on CALIBRATION_TARGET of them, else the best one
 * tried) and keep it only where it adds the attribute on more calibration
 * faces than the attribute's other add does (its direction, or its
 * transports from each state).
 */
import type * as tf from '@tensorflow/tfjs';
import type { AffineMap } from '../lib/bundle.ts';
import { transportMove } from '../lib/steer.ts';
import type { LabelledCodes } from './directions.ts';
import { CALIBRATION_TARGET, othersShare, share } from './edit-calibrate.ts';
import { facesFor, measureEdit, type EditFaces } from './edit-check.ts';
import { attributeTransport } from './gaussian-transport.ts';
import type { Judge } from './judge.ts';
import { TRANSPORT_STEPS } from './state-transport.ts';

export interface CalibratedAffine {
  map: AffineMap;
  scale: number;
  /** Share of calibration faces the judge saw the attribute added on, at `scale`. */
  calibrationShare: number;
  /** Share of the other judged attributes those edits left as they were. */
  calibrationOthers: number;
}

/** The transport's move from code i of `c`, times `scale`. */
export function affineStep(map: AffineMap, c: LabelledCodes, i: number, scale: number): Float64Array {
  return transportMove(map, c.z.subarray(i * c.d, (i + 1) * c.d)).map((v) => v * scale);
}

/** Fits and calibrates the transport that adds `name`. */
export function calibrateAffine(decoder: tf.LayersModel, judge: Judge, calibration: EditFaces, train: LabelledCodes, name: string, perSide: number): CalibratedAffine {
  const map = attributeTransport(train, name);
  const c = calibration.codes;
  const chosen = facesFor(c, name, 1, perSide);
  let best: CalibratedAffine = { map, scale: 1, calibrationShare: -1, calibrationOthers: 0 };
  for (const scale of TRANSPORT_STEPS) {
    const o = measureEdit(decoder, judge, calibration, name, 1, chosen, (i) => affineStep(map, c, i, scale));
    const s = share(o);
    if (s > best.calibrationShare) best = { map, scale, calibrationShare: s, calibrationOthers: othersShare(o) };
    if (s >= CALIBRATION_TARGET) break;
  }
  return best;
}

/** Others kept by a shipped add must stay at least this high on the calibration faces. */
export const OTHERS_FLOOR = 0.95;

/** The transport when it adds on more calibration faces than `current` (the share the other add reaches) and keeps the others; else none. */
export function betterAffine(name: string, t: CalibratedAffine, current: number): CalibratedAffine | undefined {
  const wins = t.calibrationShare > current && t.calibrationOthers >= OTHERS_FLOOR;
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
  console.log(`  ${name}: the Gaussian transport (x${t.scale}) adds on ${pct(t.calibrationShare)} of calibration faces (others kept ${pct(t.calibrationOthers)}), the other add on ${pct(current)}: ${wins ? 'ship the transport' : 'keep the other add'}.`);
  return wins ? t : undefined;
}
