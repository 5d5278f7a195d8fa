/**
 * The held-out table of attribute edits: every direction at its calibrated
 * scales, the shipped one also with "keep the others" on, and the bundle's
 * previous vectors at their old global scale, all on the same held-out faces
 * in one run, judged by the independent judge.
 */
import type * as tf from '@tensorflow/tfjs';
import { conditionalDirection } from '../lib/steer.ts';
import type { DirectionMethod } from './directions.ts';
import type { MethodTrial } from './edit-calibrate.ts';
import { othersShare, share } from './edit-calibrate.ts';
import { facesFor, measureEdit, sameGroup, SHOWS_ON, topFlips, type EditFaces, type EditOutcome } from './edit-check.ts';
import type { Judge } from './judge.ts';
import { faceMapMove, type FaceMap } from './transport-calibrate.ts';

export interface EditFigures {
  add: number;
  remove: number;
  othersUnchanged: number;
  /** The same edits on the faces where they can show (only for attributes with a SHOWS_ON rule). */
  addShowable?: number;
  removeShowable?: number;
  addCount: number;
  removeCount: number;
  flips: { name: string; share: number }[];
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function figures(name: string, add: EditOutcome, remove: EditOutcome): EditFigures {
  const shows = SHOWS_ON[name] !== undefined;
  return {
    add: round3(share(add)),
    remove: round3(share(remove)),
    othersUnchanged: round3(othersShare(add, remove)),
    ...(shows ? { addShowable: round3(add.showableSuccess / Math.max(1, add.showableCount)), removeShowable: round3(remove.showableSuccess / Math.max(1, remove.showableCount)) } : {}),
    addCount: add.count,
    removeCount: remove.count,
    flips: topFlips([add, remove]),
  };
}

/** One edit both ways on held-out faces: `offset(sign, i)` is the latent step for that side on face i. */
export function measureBothWays(decoder: tf.LayersModel, judge: Judge, faces: EditFaces, name: string, perSide: number, offset: (sign: 1 | -1, i: number) => ArrayLike<number>): EditFigures {
  const add = measureEdit(decoder, judge, faces, name, 1, facesFor(faces.codes, name, 1, perSide), (i) => offset(1, i));
  const remove = measureEdit(decoder, judge, faces, name, -1, facesFor(faces.codes, name, -1, perSide), (i) => offset(-1, i));
  return figures(name, add, remove);
}

/** How a state attribute is added from each start (training/state-transport.ts), for the held-out faces. */
export interface TransportUse {
  /** The state each held-out face is read to be in (by the probes, as the studio reads it). */
  stateOf: readonly string[];
  from: ReadonlyMap<string, { vector: ArrayLike<number>; scale: number; calibrationShare: number }>;
}

/** Adding from each start state on its own: faces, scale and the share added. */
export interface FromStateRow {
  state: string;
  faces: number;
  scale: number;
  calibrationShare: number;
  add: number;
  othersUnchanged: number;
}

export function scaled(v: ArrayLike<number>, s: number): Float64Array {
  return Float64Array.from(v, (x) => x * s);
}

/** The conditional form of a trial's direction, keeping every other judged attribute outside its group. */
export function keptDirection(name: string, direction: ArrayLike<number>, normals: ReadonlyMap<string, ArrayLike<number>>): Float64Array {
  const keep = [...normals].filter(([other]) => !sameGroup(other, name)).map(([, n]) => n);
  return conditionalDirection(direction, keep, normals.get(name));
}

export interface AttributeRow extends EditFigures {
  name: string;
  method: DirectionMethod;
  scale: { add: number; remove: number };
  showsOn?: string;
  /** The shipped direction with "keep the others" on. */
  kept: EditFigures;
  /** Every candidate at its own calibrated scales (keep off), for the comparison. */
  methods: Record<string, EditFigures & { scale: { add: number; remove: number } }>;
  /** The vector the bundle had before, at the old global scale. */
  before?: EditFigures;
  /** State attributes: adding by the transport from each start state (the shipped add), and the single direction's add for comparison. */
  fromStates?: FromStateRow[];
  addByDirection?: number;
  /** Attributes added by a face-dependent move (the shipped add): which (a Gaussian transport or a network fitted to counterfactual pairs), its multiple and what it reached on the calibration faces. */
  transport?: { kind: FaceMap['kind']; scale: number; calibrationShare: number; pairs?: number; validationR2?: number };
}

/** The face-dependent move an attribute is added by, with its calibrated multiple. */
export interface AffineUse {
  move: FaceMap;
  scale: number;
  calibrationShare: number;
}

/**
 * The add side's step on face i of `faces`: the face-dependent transport when
 * the attribute has one, else the transport from its state when there is one,
 * else the direction at its add scale (lib/steer.ts termMove's order).
 */
function addStep(faces: EditFaces, direction: ArrayLike<number>, scale: number, transport: TransportUse | undefined, i: number, keep?: (v: ArrayLike<number>) => ArrayLike<number>, affine?: AffineUse): ArrayLike<number> {
  if (affine) {
    const c = faces.codes;
    const move = faceMapMove(affine.move, c.z.subarray(i * c.d, (i + 1) * c.d));
    return scaled(keep ? keep(move) : move, affine.scale);
  }
  const t = transport?.from.get(transport.stateOf[i]!);
  const v = t ? t.vector : direction;
  const k = keep ? keep(v) : v;
  return scaled(k, t ? t.scale : scale);
}

function fromStateRows(decoder: tf.LayersModel, judge: Judge, faces: EditFaces, name: string, perSide: number, transport: TransportUse): FromStateRow[] {
  const chosen = facesFor(faces.codes, name, 1, perSide);
  return [...transport.from].map(([state, t]) => {
    const mine = chosen.filter((i) => transport.stateOf[i] === state);
    const o = measureEdit(decoder, judge, faces, name, 1, mine, () => scaled(t.vector, t.scale));
    return { state, faces: mine.length, scale: t.scale, calibrationShare: t.calibrationShare, add: round3(share(o)), othersUnchanged: round3(othersShare(o)) };
  });
}

/** Measures an attribute's shipped trial (first), the other trials and the old vector on held-out faces. */
export function measureAttribute(
  decoder: tf.LayersModel, judge: Judge, faces: EditFaces, name: string, trials: readonly MethodTrial[],
  normals: ReadonlyMap<string, ArrayLike<number>>, perSide: number, old?: { vector: ArrayLike<number>; scale: number }, transport?: TransportUse, affine?: AffineUse,
): AttributeRow {
  const methods: AttributeRow['methods'] = {};
  for (const t of trials) {
    const f = measureBothWays(decoder, judge, faces, name, perSide, (sign) => scaled(t.direction, sign > 0 ? t.add.scale : t.remove.scale));
    methods[t.method] = { ...f, scale: { add: t.add.scale, remove: t.remove.scale } };
  }
  const shipped = trials[0]!;
  const kd = keptDirection(name, shipped.direction, normals);
  const keepOthers = (v: ArrayLike<number>) => keptDirection(name, v, normals);
  const kept = measureBothWays(decoder, judge, faces, name, perSide, (sign, i) => (sign > 0 ? addStep(faces, shipped.direction, shipped.add.scale, transport, i, keepOthers, affine) : scaled(kd, shipped.remove.scale)));
  const before = old ? measureBothWays(decoder, judge, faces, name, perSide, () => scaled(old.vector, old.scale)) : undefined;
  const main = transport || affine
    ? measureBothWays(decoder, judge, faces, name, perSide, (sign, i) => (sign > 0 ? addStep(faces, shipped.direction, shipped.add.scale, transport, i, undefined, affine) : scaled(shipped.direction, shipped.remove.scale)))
    : methods[shipped.method]!;
  return {
    ...main,
    name,
    method: shipped.method,
    scale: { add: shipped.add.scale, remove: shipped.remove.scale },
    ...(SHOWS_ON[name] ? { showsOn: SHOWS_ON[name]!.says } : {}),
    kept,
    methods,
    ...(before ? { before } : {}),
    ...(transport ? { fromStates: fromStateRows(decoder, judge, faces, name, perSide, transport) } : {}),
    ...(transport || affine ? { addByDirection: methods[shipped.method]!.add } : {}),
    ...(affine ? { transport: transportFigures(affine) } : {}),
  };
}

function transportFigures(a: AffineUse): NonNullable<AttributeRow['transport']> {
  const m = a.move;
  return {
    kind: m.kind, scale: a.scale, calibrationShare: round3(a.calibrationShare),
    ...(m.kind === 'network' ? { pairs: m.pairs, validationR2: round3(m.validationR2) } : {}),
  };
}
