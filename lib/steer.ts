/**
 * Steering a face along calibrated attribute directions: the one recipe the
 * studio and the mix API share.
 *
 * Each attribute carries a unit direction, a measured scale per side (slider
 * +1 moves the face `scale.add` along the direction, the distance at which the
 * judge clearly sees the attribute added; -1 moves it `scale.remove` back) and
 * the normal of a linear probe for it. "Keep the others" replaces each
 * direction by its conditional form: the part orthogonal to the probe normals
 * of the attributes to keep, rescaled so it still crosses its own attribute's
 * boundary as fast (as in conditional manipulation of GAN latents).
 */
import type { MixTerm } from './attributes.ts';
import type { AttributesFile, FaceTransport } from './bundle.ts';
import { decodeNet, netMove, type EditNet } from './edit-net.ts';

export interface SteerAttribute {
  name: string;
  /** Unit direction in latent space. */
  direction: ArrayLike<number>;
  /** Latent distance for slider +1 (add) and -1 (remove). */
  scale: { add: number; remove: number };
  /** Unit normal of the attribute's linear probe. */
  normal: ArrayLike<number>;
  /** Attributes that change together with this one by construction (a hair colour and baldness); never "kept" against it. */
  group?: string;
  /** The probe's offset for the unit normal (normal · z + bias > 0: has it); only states need it. */
  bias?: number;
  /** Adding from a face in another state: the move between the states' mean codes and its calibrated multiple at slider +1. */
  from?: ReadonlyMap<string, { vector: ArrayLike<number>; scale: number }>;
  /** Adding by a face-dependent move: slider +1 moves z by scale × faceMove(transport, z). */
  transport?: SteerTransport;
}

/** A face-dependent add as steering uses it: an affine transport, or a decoded network (lib/edit-net.ts). */
export type SteerTransport = { scale: number } & ({ matrix: ArrayLike<number>; offset: ArrayLike<number> } | { net: EditNet });

/** The move a face-dependent add makes from z: the affine transport's z·matrix + offset − z, or the network's output. */
export function faceMove(t: { matrix: ArrayLike<number>; offset: ArrayLike<number> } | { net: EditNet }, z: ArrayLike<number>): Float64Array {
  return 'net' in t ? netMove(t.net, z) : transportMove(t, z);
}

/** The move an affine transport makes from z: z·matrix + offset − z (matrix d×d, row-major). */
export function transportMove(t: { matrix: ArrayLike<number>; offset: ArrayLike<number> }, z: ArrayLike<number>): Float64Array {
  const d = z.length;
  if (t.offset.length !== d || t.matrix.length !== d * d) throw new Error(`a transport for ${t.offset.length} dimensions cannot move a ${d}-D face`);
  const out = new Float64Array(d);
  for (let c = 0; c < d; c++) out[c] = t.offset[c]! - z[c]!;
  for (let q = 0; q < d; q++) {
    const zq = z[q]!;
    if (zq === 0) continue;
    for (let c = 0; c < d; c++) out[c]! += zq * t.matrix[q * d + c]!;
  }
  return out;
}

/**
 * The state a face is in: of the exclusive `states` (hair colours, bald, a
 * hat), the one whose probe reads z most strongly (largest signed distance
 * from its boundary). Null when a state lacks a probe bias.
 */
export function faceState(attrs: ReadonlyMap<string, Pick<SteerAttribute, 'normal' | 'bias'>>, states: readonly string[], z: ArrayLike<number>): string | null {
  let best: string | null = null;
  let bestMargin = -Infinity;
  for (const name of states) {
    const a = attrs.get(name);
    if (!a || a.bias === undefined) return null;
    const margin = dot(a.normal, z) + a.bias;
    if (margin > bestMargin) {
      bestMargin = margin;
      best = name;
    }
  }
  return best;
}

/** A conditional direction's gain is capped here: past it, the kept attributes leave too little of the direction to follow. */
export const MAX_CONDITIONAL_GAIN = 3;

/**
 * v with the span of `keep` projected out (Gram-Schmidt; normals nearly in
 * the span already are skipped), rescaled so its component along `self`
 * equals v's, at most MAX_CONDITIONAL_GAIN times longer.
 */
export function conditionalDirection(v: ArrayLike<number>, keep: readonly ArrayLike<number>[], self?: ArrayLike<number>): Float64Array {
  const d = v.length;
  const basis: Float64Array[] = [];
  for (const k of keep) {
    if (k.length !== d) throw new Error(`a ${k.length}-D normal cannot be kept against a ${d}-D direction`);
    const r = Float64Array.from(k);
    for (const b of basis) subtractProjection(r, b);
    const n = Math.hypot(...r);
    if (n > 1e-6) basis.push(r.map((x) => x / n));
  }
  const out = Float64Array.from(v);
  for (const b of basis) subtractProjection(out, b);
  if (!self) return out;
  const before = dot(v, self);
  const after = dot(out, self);
  if (Math.abs(after) < 1e-12) return out;
  const gain = Math.min(MAX_CONDITIONAL_GAIN, Math.max(0, before / after));
  return out.map((x) => x * gain);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function subtractProjection(r: Float64Array, unitB: Float64Array): void {
  const p = dot(r, unitB);
  for (let i = 0; i < r.length; i++) r[i]! -= p * unitB[i]!;
}

/** The attributes a term keeps: the kept set without the steered ones and without its own group. */
export function keptFor(term: string, attrs: ReadonlyMap<string, SteerAttribute>, steered: ReadonlySet<string>, keep: Iterable<string>): SteerAttribute[] {
  const own = attrs.get(term);
  const out: SteerAttribute[] = [];
  for (const name of keep) {
    if (name === term || steered.has(name)) continue;
    const a = attrs.get(name);
    if (!a || (own?.group && a.group === own.group)) continue;
    out.push(a);
  }
  return out;
}

/** How a term moved the face: along its direction, by a state's transport, or by the face-dependent add (a transport or a network). */
export type MoveKind = 'direction' | 'state' | 'transport';

/**
 * The move of one term before its weight. Adding an attribute that has a
 * face-dependent transport, given the face `z`, moves by that transport's
 * move from z × its scale; adding from a face whose state has a transport
 * moves by that × its scale; every other case moves scale (by side) × the
 * unit direction.
 */
export function termMove(a: SteerAttribute, weight: number, from?: string | null, z?: ArrayLike<number> | null): { vector: ArrayLike<number>; scale: number; from: string | null; kind: MoveKind } {
  if (weight > 0 && a.transport && z) return { vector: faceMove(a.transport, z), scale: a.transport.scale, from: null, kind: 'transport' };
  const t = weight > 0 && from ? a.from?.get(from) : undefined;
  if (t) return { vector: t.vector, scale: t.scale, from: from!, kind: 'state' };
  return { vector: a.direction, scale: weight > 0 ? a.scale.add : a.scale.remove, from: null, kind: 'direction' };
}

/**
 * The latent offset of slider settings: sum over terms of weight × scale (by
 * the weight's sign) × direction, each direction conditional on `keep` when
 * given. `from` is the face's state (faceState): adding a state attribute
 * then follows its transport from that state. `z` is the face itself: adding
 * an attribute with a face-dependent transport then follows it from z (without
 * z it moves along the direction). Unknown names throw; callers validate first.
 */
export function steerOffset(attrs: ReadonlyMap<string, SteerAttribute>, terms: readonly MixTerm[], d: number, keep?: Iterable<string>, from?: string | null, z?: ArrayLike<number> | null): Float32Array {
  const out = new Float64Array(d);
  const steered = new Set(terms.map((t) => t.name));
  const keepList = keep ? [...keep] : null;
  for (const { name, weight } of terms) {
    const a = attrs.get(name);
    if (!a) throw new Error(`unknown attribute ${name}`);
    if (a.direction.length !== d) throw new Error(`attribute ${name} has ${a.direction.length} dimensions, expected ${d}`);
    if (weight === 0) continue;
    const move = termMove(a, weight, from, z);
    const dir = keepList ? conditionalDirection(move.vector, keptFor(name, attrs, steered, keepList).map((k) => k.normal), a.normal) : move.vector;
    const s = weight * move.scale;
    for (let j = 0; j < d; j++) out[j]! += s * dir[j]!;
  }
  return Float32Array.from(out);
}

/** 32-bit FNV-1a of a string, as 8 hex digits. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** The version of a set of directions: a hash of every name, direction, scale and normal. */
export function attributesVersion(file: Pick<AttributesFile, 'attributes'>): string {
  // Transports join the hash only where present, so files without them keep their versions.
  return fnv1a(JSON.stringify(file.attributes.map((a) => [a.name, a.vector, a.scale ?? null, a.normal ?? null, ...(a.from ? [a.bias ?? null, a.from] : []), ...(a.transport ? [a.transport] : [])])));
}

function unitOf(v: readonly number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => (n > 0 ? x / n : 0));
}

/**
 * The steering view of an attributes file. A format-1 file (raw mean
 * differences, no calibration) steers as it always did: slider w moves the
 * face w × vector, and its own direction stands in for the probe normal.
 */
export function steerAttributes(file: Pick<AttributesFile, 'attributes'>): Map<string, SteerAttribute> {
  return new Map(file.attributes.map((a) => [a.name, {
    name: a.name,
    direction: a.vector,
    scale: a.scale ?? { add: 1, remove: 1 },
    normal: a.normal ?? unitOf(a.vector),
    ...(a.group ? { group: a.group } : {}),
    ...(a.bias !== undefined ? { bias: a.bias } : {}),
    ...(a.from ? { from: new Map(a.from.map((t) => [t.state, { vector: t.vector, scale: t.scale }])) } : {}),
    ...(a.transport ? { transport: steerTransport(a.transport, a.vector.length) } : {}),
  }]));
}

function steerTransport(t: FaceTransport, d: number): SteerTransport {
  return 'net' in t ? { scale: t.scale, net: decodeNet(t.net, d) } : t;
}
