/**
 * Choosing each attribute's direction and its slider scale, on training faces
 * (never the held-out ones the final table is measured on).
 *
 * Scale: slider +1 should mean "clearly added". For each side the edit is
 * tried at growing distances along the unit direction, starting from where
 * the attribute's linear probe says most faces cross its boundary, and the
 * first distance at which the judge sees the edit on CALIBRATION_TARGET of the
 * faces is the working scale. Method: each candidate direction is calibrated
 * so, and the one whose worst figure (add, remove, others unchanged) is best
 * ships.
 */
import type * as tf from '@tensorflow/tfjs';
import { balancedDifference, confounders, exclusive, logisticProbe, meanDifference, regressionDirection, unit, type DirectionMethod, type LabelledCodes, type Probe } from './directions.ts';
import { ATTRIBUTE_GROUPS, facesFor, measureEdit, sameGroup, showableMask, type EditFaces, type EditOutcome } from './edit-check.ts';
import type { Judge } from './judge.ts';

/** The share of calibration faces an edit must reach at slider ±1 (above the 80% target, so held-out faces clear it too). */
export const CALIBRATION_TARGET = 0.9;
/** Distances tried: from FIRST_STEP x the probe's estimate, growing by STEP_GROWTH, at most MAX_STEPS of them. */
export const FIRST_STEP = 0.7;
export const STEP_GROWTH = 1.3;
export const MAX_STEPS = 10;
/** No edit goes further than this from the face: the prior's codes have norm ~8, and past it faces wash out into orange blotches (measured by eye on the edit sheet at 14). */
export const MAX_SCALE = 8;

export interface SideCalibration {
  scale: number;
  outcome: EditOutcome;
  /** Whether CALIBRATION_TARGET was reached before MAX_SCALE. */
  reached: boolean;
}

/** The unit candidate directions of one attribute, each fitted where the attribute can show. */
export function candidateDirections(train: LabelledCodes, name: string, judged: readonly string[]): Record<DirectionMethod, Float64Array> {
  const mask = showableMask(train, name);
  const outside = judged.filter((o) => !sameGroup(o, name));
  const balance = confounders(train, name, outside, mask, 3);
  return {
    'mean-difference': unit(meanDifference(train, name)),
    'balanced-difference': unit(balancedDifference(train, name, balance, mask)),
    regression: unit(regressionDirection(train, name, judged.filter((o) => o !== name && !(sameGroup(o, name) && exclusive(train, name, o))), mask)),
    probe: unit(logisticProbe(train, name, mask).w),
  };
}

/** Every judged attribute's probe on all training faces: its unit normal keeps it in "keep the others". */
export function probes(train: LabelledCodes, names: readonly string[]): Map<string, Probe> {
  return new Map(names.map((n) => [n, logisticProbe(train, n)]));
}

/** The probe's guess at the distance along `u` that takes most of the chosen faces across its boundary, with margin. */
export function probeDistance(c: LabelledCodes, probe: Probe, u: ArrayLike<number>, chosen: readonly number[], sign: 1 | -1): number {
  let speed = 0;
  for (let q = 0; q < c.d; q++) speed += probe.w[q]! * u[q]!;
  speed *= sign;
  if (!(speed > 1e-3)) return 3;
  const need = chosen.map((i) => {
    let m = probe.b;
    for (let q = 0; q < c.d; q++) m += probe.w[q]! * c.z[i * c.d + q]!;
    return Math.max(0, (sign * 2 - m) * sign) / speed;
  }).sort((a, b) => a - b);
  const p80 = need[Math.floor(0.8 * (need.length - 1))] ?? 3;
  return Math.min(MAX_SCALE / 2, Math.max(0.5, p80));
}

/** The working scale of one side of one direction: the first tried distance whose edit reaches CALIBRATION_TARGET. */
export function calibrateSide(decoder: tf.LayersModel, judge: Judge, faces: EditFaces, name: string, sign: 1 | -1, u: ArrayLike<number>, probe: Probe, perSide: number, offset?: (i: number, scale: number) => ArrayLike<number>): SideCalibration {
  const chosen = facesFor(faces.codes, name, sign, perSide);
  const start = probeDistance(faces.codes, probe, u, chosen, sign);
  let best: SideCalibration | null = null;
  for (let k = 0; k < MAX_STEPS; k++) {
    const scale = Math.min(MAX_SCALE, Math.round(FIRST_STEP * STEP_GROWTH ** k * start * 100) / 100);
    const outcome = measureEdit(decoder, judge, faces, name, sign, chosen, (i) => (offset ? offset(i, scale) : Array.from(u, (x) => x * scale)));
    const share = outcome.success / Math.max(1, outcome.count);
    if (share >= CALIBRATION_TARGET) return { scale, outcome, reached: true };
    if (!best || share > best.outcome.success / Math.max(1, best.outcome.count)) best = { scale, outcome, reached: false };
    if (scale >= MAX_SCALE) break;
  }
  return best!;
}

export interface MethodTrial {
  method: DirectionMethod;
  direction: Float64Array;
  add: SideCalibration;
  remove: SideCalibration;
  /** min(add, remove, others unchanged) on the calibration faces. */
  worst: number;
}

export function share(o: EditOutcome): number {
  return o.count ? o.success / o.count : NaN;
}

export function othersShare(...os: EditOutcome[]): number {
  const kept = os.reduce((n, o) => n + o.othersKept, 0);
  const total = os.reduce((n, o) => n + o.othersTotal, 0);
  return total ? kept / total : NaN;
}

/** Calibrates every candidate direction of `name` and returns the trials, best first. */
export function chooseDirection(decoder: tf.LayersModel, judge: Judge, faces: EditFaces, train: LabelledCodes, name: string, probe: Probe, perSide: number, methods?: readonly DirectionMethod[]): MethodTrial[] {
  const candidates = candidateDirections(train, name, judge.attributes);
  const trials = (Object.entries(candidates) as [DirectionMethod, Float64Array][])
    .filter(([m]) => !methods || methods.includes(m))
    .map(([method, direction]) => {
      const add = calibrateSide(decoder, judge, faces, name, 1, direction, probe, perSide);
      const remove = calibrateSide(decoder, judge, faces, name, -1, direction, probe, perSide);
      const worst = Math.min(share(add.outcome), share(remove.outcome), othersShare(add.outcome, remove.outcome));
      return { method, direction, add, remove, worst };
    });
  return trials.sort((a, b) => b.worst - a.worst);
}

export { ATTRIBUTE_GROUPS };
