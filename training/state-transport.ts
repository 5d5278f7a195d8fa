/**
 * Adding a state attribute from where the face starts. Hair colours, bald and
 * a hat are exclusive looks: every avatar has exactly one. One straight line
 * per attribute is right on average and wrong from the hardest start (a hat
 * has to come off before blond can show; black hair barely moves toward
 * brown along the average direction). So each state attribute also gets, for
 * every other state, the move between the two states' mean codes, and its own
 * calibrated multiple: slider +1 from a black-haired face follows
 * black → blond, from a hat hat → blond.
 *
 * The face's state is read by the states' linear probes (the strongest
 * margin), the same rule the studio and the mix API use (lib/steer.ts).
 */
import type * as tf from '@tensorflow/tfjs';
import type { StateTransport } from '../lib/bundle.ts';
import { unit, type LabelledCodes, type Probe } from './directions.ts';
import { CALIBRATION_TARGET } from './edit-calibrate.ts';
import { facesFor, groupOf, measureEdit, type EditFaces, type EditOutcome } from './edit-check.ts';
import type { Judge } from './judge.ts';

/** Multiples of the transport tried when calibrating, in order; past 3 faces overshoot into the next look. */
export const TRANSPORT_STEPS = [0.75, 1, 1.25, 1.5, 2, 2.5, 3];
/** A set of states must cover this share of the faces, each face having exactly one. */
export const STATE_COVERAGE = 0.95;

function hasLabel(c: LabelledCodes, i: number, name: string): boolean {
  return c.labels[i * c.names.length + c.names.indexOf(name)]! > 0;
}

/**
 * The largest set of judged attributes of one group that no face combines
 * and nearly every face has exactly one of (the avatars' hair: black, blond,
 * brown, grey, bald or a hat). Every subset of a group is tried (groups are
 * small). Null when the labels have no such set (real CelebA: many faces
 * have none of them).
 */
export function exclusiveStates(c: LabelledCodes, judged: readonly string[]): string[] | null {
  const groups = new Map<string, string[]>();
  for (const n of judged) {
    const g = groupOf(n);
    if (g && c.names.includes(n)) groups.set(g, [...(groups.get(g) ?? []), n]);
  }
  let best: string[] | null = null;
  for (const members of groups.values()) {
    if (members.length > 12) continue;
    // Each face's members as a bit mask; a set works when (almost) every face has exactly one bit of it.
    const masks = Array.from({ length: c.n }, (_, i) => members.reduce((m, n, k) => m | (hasLabel(c, i, n) ? 1 << k : 0), 0));
    for (let set = 1; set < 1 << members.length; set++) {
      const size = popcount(set);
      if (size < 2 || (best && size <= best.length)) continue;
      let one = 0;
      let clash = false;
      for (const m of masks) {
        const bits = popcount(m & set);
        if (bits > 1) clash = true;
        one += bits === 1 ? 1 : 0;
      }
      if (!clash && one >= STATE_COVERAGE * c.n) best = members.filter((_, k) => set & (1 << k));
    }
  }
  return best;
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

/** The probe of a state as the bundle stores it: unit normal and the bias for it. */
export function unitProbe(p: Probe): { normal: Float64Array; bias: number } {
  const n = Math.hypot(...p.w);
  return { normal: unit(p.w), bias: n > 0 ? p.b / n : 0 };
}

/** Each face's state by the strongest probe margin, as lib/steer.ts faceState reads it. */
export function statesOf(c: LabelledCodes, states: readonly string[], probes: ReadonlyMap<string, Probe>): string[] {
  const units = states.map((s) => unitProbe(probes.get(s)!));
  return Array.from({ length: c.n }, (_, i) => {
    let best = 0;
    let bestMargin = -Infinity;
    units.forEach((u, k) => {
      let m = u.bias;
      for (let q = 0; q < c.d; q++) m += u.normal[q]! * c.z[i * c.d + q]!;
      if (m > bestMargin) [best, bestMargin] = [k, m];
    });
    return states[best]!;
  });
}

/** Mean code of the faces labelled with each state. */
export function stateMeans(c: LabelledCodes, states: readonly string[]): Map<string, Float64Array> {
  return new Map(states.map((s) => {
    const m = new Float64Array(c.d);
    let n = 0;
    for (let i = 0; i < c.n; i++) {
      if (!hasLabel(c, i, s)) continue;
      n++;
      for (let q = 0; q < c.d; q++) m[q]! += c.z[i * c.d + q]!;
    }
    return [s, m.map((v) => v / Math.max(1, n))];
  }));
}

export interface CalibratedTransport extends StateTransport {
  /** Share of calibration faces in that state the judge saw the attribute added on, at the chosen scale. */
  calibrationShare: number;
  faces: number;
}

/** The multiple of one transport at which the judge sees `name` added on CALIBRATION_TARGET of the faces (else the best tried). */
export function calibrateTransport(decoder: tf.LayersModel, judge: Judge, faces: EditFaces, name: string, chosen: readonly number[], vector: Float64Array): { scale: number; share: number } {
  let best = { scale: 1, share: -1 };
  for (const scale of TRANSPORT_STEPS) {
    const o: EditOutcome = measureEdit(decoder, judge, faces, name, 1, chosen, () => vector.map((v) => v * scale));
    const share = o.success / Math.max(1, o.count);
    if (share >= CALIBRATION_TARGET) return { scale, share };
    if (share > best.share) best = { scale, share };
  }
  return best;
}

/**
 * For each state attribute `name` that the face is not in: the transport from
 * every other state, calibrated on the calibration faces in that state.
 */
export function stateTransports(
  decoder: tf.LayersModel, judge: Judge, calibration: EditFaces, calibrationStates: readonly string[],
  means: ReadonlyMap<string, Float64Array>, name: string, perState: number,
): CalibratedTransport[] {
  const target = means.get(name)!;
  const without = facesFor(calibration.codes, name, 1, calibration.codes.n);
  const out: CalibratedTransport[] = [];
  for (const [state, mean] of means) {
    if (state === name) continue;
    const chosen = without.filter((i) => calibrationStates[i] === state).slice(0, perState);
    if (chosen.length < 10) continue;
    const vector = target.map((v, q) => v - mean[q]!);
    const { scale, share } = calibrateTransport(decoder, judge, calibration, name, chosen, vector);
    out.push({ state, vector: Array.from(vector, (v) => Math.round(v * 1e4) / 1e4), scale, calibrationShare: Math.round(share * 1000) / 1000, faces: chosen.length });
  }
  return out;
}
