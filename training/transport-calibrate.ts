/**
 * Face-dependent adds as candidates: the Gaussian transport
 * (training/gaussian-transport.ts), fitted on every training face, and where
 * counterfactual pairs exist a network fitted to them (training/edit-net.ts).
 * Each is calibrated on the calibration faces (the first multiple at which
 * the judge sees the attribute added on CALIBRATION_TARGET of them, else the
 * best one tried) and kept only where it adds the attribute on more
 * calibration faces than the attribute's other add does (its direction, its
 * transports from each state, or the other face-dependent add).
 */
import type * as tf from '@tensorflow/tfjs';
import type { AffineMap, FaceTransport } from '../lib/bundle.ts';
import type { EditNet, EditNetFile } from '../lib/edit-net.ts';
import { faceMove } from '../lib/steer.ts';
import type { LabelledCodes } from './directions.ts';
import { CALIBRATION_TARGET, othersShare, share } from './edit-calibrate.ts';
import { facesFor, measureEdit, type EditFaces } from './edit-check.ts';
import { attributeTransport } from './gaussian-transport.ts';
import type { Judge } from './judge.ts';
import { TRANSPORT_STEPS } from './state-transport.ts';

/** A face-dependent add before calibration: an affine map, or a fitted network with its stored form. */
export type FaceMap =
  | { kind: 'gaussian'; map: AffineMap }
  | { kind: 'network'; net: EditNet; file: EditNetFile; pairs: number; validationR2: number };

export interface CalibratedMove {
  move: FaceMap;
  scale: number;
  /** Share of calibration faces the judge saw the attribute added on, at `scale`. */
  calibrationShare: number;
  /** Share of the other judged attributes those edits left as they were. */
  calibrationOthers: number;
}

/** The map's move from z (not yet scaled). */
export function faceMapMove(m: FaceMap, z: ArrayLike<number>): Float64Array {
  return m.kind === 'network' ? faceMove({ net: m.net }, z) : faceMove(m.map, z);
}

/** The bundle's form of a calibrated move (attributes.json "transport"). */
export function transportOf(c: CalibratedMove, round: (v: number) => number): FaceTransport {
  const m = c.move;
  return m.kind === 'network'
    ? { net: { ...m.file, pairs: m.pairs }, scale: c.scale }
    : { matrix: m.map.matrix.map(round), offset: m.map.offset.map(round), scale: c.scale };
}

/** Calibrates the multiple of `move` that adds `name`. */
export function calibrateMove(decoder: tf.LayersModel, judge: Judge, calibration: EditFaces, name: string, perSide: number, move: FaceMap): CalibratedMove {
  const c = calibration.codes;
  const chosen = facesFor(c, name, 1, perSide);
  const moves = new Map(chosen.map((i) => [i, faceMapMove(move, c.z.subarray(i * c.d, (i + 1) * c.d))]));
  let best: CalibratedMove = { move, scale: 1, calibrationShare: -1, calibrationOthers: 0 };
  for (const scale of TRANSPORT_STEPS) {
    const o = measureEdit(decoder, judge, calibration, name, 1, chosen, (i) => moves.get(i)!.map((v) => v * scale));
    const s = share(o);
    if (s > best.calibrationShare) best = { move, scale, calibrationShare: s, calibrationOthers: othersShare(o) };
    if (s >= CALIBRATION_TARGET) break;
  }
  return best;
}

/** Fits and calibrates the Gaussian transport that adds `name`. */
export function calibrateAffine(decoder: tf.LayersModel, judge: Judge, calibration: EditFaces, train: LabelledCodes, name: string, perSide: number): CalibratedMove {
  return calibrateMove(decoder, judge, calibration, name, perSide, { kind: 'gaussian', map: attributeTransport(train, name) });
}

/** Others kept by a shipped add must stay at least this high on the calibration faces. */
export const OTHERS_FLOOR = 0.95;

const LABELS: Record<FaceMap['kind'], string> = { gaussian: 'the Gaussian transport', network: 'the network fitted to counterfactual pairs' };

/** The candidate when it adds on more calibration faces than `current` (the share the other add reaches) and keeps the others; else none. */
export function betterMove(name: string, t: CalibratedMove, current: number): CalibratedMove | undefined {
  const wins = t.calibrationShare > current && t.calibrationOthers >= OTHERS_FLOOR;
  const pct = (v: number) => `${(100 * v).toFixed(0)}%`;
  console.log(`  ${name}: ${LABELS[t.move.kind]} (x${t.scale}) adds on ${pct(t.calibrationShare)} of calibration faces (others kept ${pct(t.calibrationOthers)}), the other add on ${pct(current)}: ${wins ? `ship ${LABELS[t.move.kind]}` : 'keep the other add'}.`);
  return wins ? t : undefined;
}
